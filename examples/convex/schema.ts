// The tables of the examples' app. Shared validators live here so that the functions' args and returns
// validators say exactly what the tables hold.
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

/** A post is a draft until it is published. */
export const postStatus = v.union(v.literal("draft"), v.literal("published"));

export const postFields = {
  title: v.string(),
  status: postStatus,
  author: v.string(),
};

export const taskFields = {
  text: v.string(),
  isCompleted: v.boolean(),
};

/** A user as `users:me` returns them: the auth provider's subject and a display name. */
export const profile = v.object({
  subject: v.string(),
  name: v.string(),
});

export default defineSchema({
  posts: defineTable(postFields).index("by_status", ["status"]),
  tasks: defineTable(taskFields),
  users: defineTable(profile.fields).index("by_subject", ["subject"]),
  subscriptions: defineTable({
    userId: v.string(),
    stripeSubscriptionId: v.string(),
    active: v.boolean(),
  }).index("by_stripe_subscription_id", ["stripeSubscriptionId"]),
  pageViews: defineTable({
    path: v.string(),
    userAgent: v.string(),
    timestamp: v.number(),
  }),
  issues: defineTable({
    repoUrl: v.string(),
    githubId: v.int64(),
    number: v.number(),
    title: v.string(),
    body: v.optional(v.string()),
  }).index("by_github_id", ["githubId"]),
});
