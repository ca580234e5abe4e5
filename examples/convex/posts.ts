import { v } from "convex/values";
import { query } from "./functions";
import { postFields, postStatus } from "./schema";

/** A document of the `posts` table, system fields included. */
export const postDoc = v.object({
  _id: v.id("posts"),
  _creationTime: v.number(),
  ...postFields,
});

/** Lists the posts, all of them or those with `status`, oldest first. */
export const list = query({
  args: { status: v.optional(postStatus) },
  returns: v.array(postDoc),
  handler: async (ctx, { status }) => {
    if (status === undefined) {
      return await ctx.db.query("posts").collect();
    }
    return await ctx.db
      .query("posts")
      .withIndex("by_status", (q) => q.eq("status", status))
      .collect();
  },
});
