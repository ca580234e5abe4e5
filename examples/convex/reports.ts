import { makeFunctionReference } from "convex/server";
import { ConvexError, v } from "convex/values";
import { action, internalQuery } from "./functions";

const totals = v.object({
  postsPublished: v.number(),
  tasksCompleted: v.number(),
});

/** How many posts are published and tasks completed; an action cannot read the database itself. */
export const counts = internalQuery({
  args: {},
  returns: totals,
  handler: async (ctx) => {
    const published = await ctx.db
      .query("posts")
      .withIndex("by_status", (q) => q.eq("status", "published"))
      .collect();
    const tasks = await ctx.db.query("tasks").collect();
    return {
      postsPublished: published.length,
      tasksCompleted: tasks.filter((task) => task.isCompleted).length,
    };
  },
});

const countsRef = makeFunctionReference<
  "query",
  Record<string, never>,
  { postsPublished: number; tasksCompleted: number }
>("reports:counts");

/** Builds the monthly report. */
export const generate = action({
  args: { month: v.number(), year: v.number() },
  returns: v.object({
    month: v.number(),
    year: v.number(),
    postsPublished: v.number(),
    tasksCompleted: v.number(),
  }),
  handler: async (ctx, { month, year }) => {
    if (!Number.isInteger(month) || month < 1 || month > 12) {
      throw new ConvexError({ code: "INVALID_MONTH", message: "month must be 1 to 12" });
    }
    const { postsPublished, tasksCompleted } = await ctx.runQuery(countsRef, {});
    return { month, year, postsPublished, tasksCompleted };
  },
});
