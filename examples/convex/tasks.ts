import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { ConvexError, v } from "convex/values";
import { mutation, query } from "./functions";
import { taskFields } from "./schema";

/** A document of the `tasks` table, system fields included. */
export const taskDoc = v.object({
  _id: v.id("tasks"),
  _creationTime: v.number(),
  ...taskFields,
});

/** Creates a task, not completed yet. */
export const create = mutation({
  args: { text: v.string() },
  returns: v.id("tasks"),
  handler: async (ctx, { text }) => {
    if (text.trim() === "") {
      throw new ConvexError({ code: "EMPTY_TEXT", message: "a task needs some text" });
    }
    return await ctx.db.insert("tasks", { text, isCompleted: false });
  },
});

/** Marks a task as done. */
export const complete = mutation({
  args: { taskId: v.id("tasks") },
  returns: v.null(),
  handler: async (ctx, { taskId }) => {
    const task = await ctx.db.get(taskId);
    if (task === null) {
      throw new ConvexError({ code: "TASK_NOT_FOUND", message: `no task with id ${taskId}` });
    }
    await ctx.db.patch(taskId, { isCompleted: true });
    console.log(`completed ${taskId}`);
    return null;
  },
});

/** The tasks, oldest first, a page at a time. */
export const list = query({
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(taskDoc),
  handler: async (ctx, { paginationOpts }) => {
    return await ctx.db.query("tasks").paginate(paginationOpts);
  },
});
