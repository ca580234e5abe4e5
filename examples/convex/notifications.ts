import { makeFunctionReference } from "convex/server";
import { v } from "convex/values";
import { action } from "./functions";

const usersRef = makeFunctionReference<
  "query",
  Record<string, never>,
  { subject: string; name: string }[]
>("users:list");

/** Sends the daily digest to every user; returns how many were sent. */
export const sendDailyDigests = action({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const users = await ctx.runQuery(usersRef, {});
    for (const user of users) {
      // Stands in for an email provider's API call.
      console.log(`digest sent to ${user.name}`);
    }
    return users.length;
  },
});
