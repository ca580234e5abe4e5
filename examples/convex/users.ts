import { ConvexError, v } from "convex/values";
import { internalQuery, query } from "./functions";
import { profile } from "./schema";

/** The signed-in user's profile. */
export const me = query({
  args: {},
  returns: profile,
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    if (identity === null) {
      throw new ConvexError({ code: "UNAUTHENTICATED", message: "sign in first" });
    }
    const user = await ctx.db
      .query("users")
      .withIndex("by_subject", (q) => q.eq("subject", identity.subject))
      .unique();
    if (user === null) {
      throw new ConvexError({ code: "USER_NOT_FOUND", message: "no such user" });
    }
    return { subject: user.subject, name: user.name };
  },
});

/** Every user, for the functions that write to all of them (the daily digest). */
export const list = internalQuery({
  args: {},
  returns: v.array(profile),
  handler: async (ctx) => {
    const users = await ctx.db.query("users").collect();
    return users.map(({ subject, name }) => ({ subject, name }));
  },
});
