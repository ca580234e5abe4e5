import { v } from "convex/values";
import { mutation } from "./functions";

/** Records one page view. */
export const recordPageView = mutation({
  args: { path: v.string(), userAgent: v.string(), timestamp: v.number() },
  returns: v.null(),
  handler: async (ctx, { path, userAgent, timestamp }) => {
    await ctx.db.insert("pageViews", { path, userAgent, timestamp });
    console.log(`page view ${path}`);
    return null;
  },
});
