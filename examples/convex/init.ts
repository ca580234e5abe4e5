// The data the examples start with: `npx convex run init` (or `npx convex dev --run init`) on a
// deployment, `--run init` for the local server of `testing/js`. Running it twice adds nothing.
import { v } from "convex/values";
import { internalMutation } from "./functions";

export default internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    if ((await ctx.db.query("users").first()) !== null) {
      return null;
    }
    const posts = [
      { title: "Hello, Convex", status: "published" },
      { title: "Typed calls from Rust", status: "published" },
      { title: "Webhooks, the hard way", status: "draft" },
    ] as const;
    for (const { title, status } of posts) {
      await ctx.db.insert("posts", { title, status, author: "Ada" });
    }
    for (const text of ["Write the quickstart", "Review the webhook handler"]) {
      await ctx.db.insert("tasks", { text, isCompleted: false });
    }
    await ctx.db.insert("users", { subject: "user_1", name: "Ada" });
    await ctx.db.insert("users", { subject: "user_2", name: "Grace" });
    return null;
  },
});
