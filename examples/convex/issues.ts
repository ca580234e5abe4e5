import { v } from "convex/values";
import { mutation } from "./functions";

/** Stores issues imported from a repository, replacing those with the same `githubId`; returns how many. */
export const importMany = mutation({
  args: {
    repoUrl: v.string(),
    issues: v.array(
      v.object({
        githubId: v.int64(),
        number: v.number(),
        title: v.string(),
        body: v.optional(v.string()),
      }),
    ),
  },
  returns: v.number(),
  handler: async (ctx, { repoUrl, issues }) => {
    for (const issue of issues) {
      const existing = await ctx.db
        .query("issues")
        .withIndex("by_github_id", (q) => q.eq("githubId", issue.githubId))
        .unique();
      const fields = { repoUrl, ...issue };
      if (existing === null) {
        await ctx.db.insert("issues", fields);
      } else {
        await ctx.db.replace(existing._id, fields);
      }
    }
    return issues.length;
  },
});
