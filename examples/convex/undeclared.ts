// Functions whose results are not declared with a returns validator, as most apps write them: a
// TypeScript caller still gets their results typed, because TypeScript infers each handler's return
// type. The spec printer infers the same types (`inferredReturns` in function_spec.json), so that
// `api!` types these results too.
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { query, mutation } from "./functions";

/** The oldest post (a `Doc<"posts">`); fails when there is none. */
export const firstPost = query({
  args: {},
  handler: async (ctx) => {
    const post = await ctx.db.query("posts").first();
    if (post === null) throw new Error("no posts");
    return post;
  },
});

/** A task by id, or null (a nullable `Doc<"tasks">`). */
export const findTask = query({
  args: { id: v.id("tasks") },
  handler: async (ctx, { id }) => await ctx.db.get(id),
});

/** A page of posts (a `PaginationResult<Doc<"posts">>`). */
export const pagePosts = query({
  args: { paginationOpts: paginationOptsValidator },
  handler: async (ctx, { paginationOpts }) => await ctx.db.query("posts").paginate(paginationOpts),
});

/** What a post is: a union of objects told apart by `kind`. */
export const describePost = query({
  args: { id: v.id("posts") },
  handler: async (ctx, { id }) => {
    const post = await ctx.db.get(id);
    if (post === null) return { kind: "missing" as const };
    if (post.status === "draft") return { kind: "draft" as const, title: post.title };
    return { kind: "published" as const, title: post.title, author: post.author };
  },
});

/** Adds a task and returns its `Id<"tasks">`. */
export const addTask = mutation({
  args: { text: v.string() },
  handler: async (ctx, { text }) => await ctx.db.insert("tasks", { text, isCompleted: false }),
});

/** How many tasks there are, as a `bigint`, and how many are done. */
export const countTasks = query({
  args: {},
  handler: async (ctx) => {
    const tasks = await ctx.db.query("tasks").collect();
    return { total: BigInt(tasks.length), done: tasks.filter((t) => t.isCompleted).length };
  },
});
