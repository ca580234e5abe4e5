import { v } from "convex/values";
import { mutation } from "./functions";
import type { MutationCtx } from "./functions";

/** Activates the subscription a Stripe checkout created (again, if Stripe sends the event twice). */
export const activate = mutation({
  args: { userId: v.string(), stripeSubscriptionId: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, stripeSubscriptionId }) => {
    const existing = await find(ctx, stripeSubscriptionId);
    if (existing === null) {
      await ctx.db.insert("subscriptions", { userId, stripeSubscriptionId, active: true });
    } else {
      await ctx.db.patch(existing._id, { userId, active: true });
    }
    return null;
  },
});

/** Cancels a subscription Stripe deleted; one never activated is left alone. */
export const cancel = mutation({
  args: { stripeSubscriptionId: v.string() },
  returns: v.null(),
  handler: async (ctx, { stripeSubscriptionId }) => {
    // Idempotent: Stripe may deliver an event more than once.
    const existing = await find(ctx, stripeSubscriptionId);
    if (existing !== null) {
      await ctx.db.patch(existing._id, { active: false });
    }
    return null;
  },
});

async function find(ctx: MutationCtx, stripeSubscriptionId: string) {
  return await ctx.db
    .query("subscriptions")
    .withIndex("by_stripe_subscription_id", (q) =>
      q.eq("stripeSubscriptionId", stripeSubscriptionId),
    )
    .unique();
}
