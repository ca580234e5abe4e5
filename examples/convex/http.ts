// HTTP actions, served on the deployment's site URL (`https://<name>.convex.site`).
import { httpRouter, makeFunctionReference } from "convex/server";
import { httpAction } from "./functions";

const listPosts = makeFunctionReference<
  "query",
  { status?: "draft" | "published" },
  { _id: string; _creationTime: number; title: string; status: string; author: string }[]
>("posts:list");

const http = httpRouter();

/** `GET /posts?status=published`: the posts as JSON, the same list `posts:list` returns. */
http.route({
  path: "/posts",
  method: "GET",
  handler: httpAction(async (ctx, request) => {
    const status = new URL(request.url).searchParams.get("status");
    if (status !== null && status !== "draft" && status !== "published") {
      return json({ error: "status must be draft or published" }, 400);
    }
    const posts = await ctx.runQuery(listPosts, status === null ? {} : { status });
    return json(posts, 200);
  }),
});

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

export default http;
