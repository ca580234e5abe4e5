// The `Authorization` header, read as a deployment reads it: `Bearer <token>` for a user,
// `Convex <admin key>` for admin calls, `Convex <admin key>:<base64 identity JSON>` to act as a user.

import { timingSafeEqual } from "node:crypto";

/** A refusal before any function ran: the status and the `{code, message}` body. */
export class SystemError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "SystemError";
    this.status = status;
    this.code = code;
  }
}

function sameSecret(a, b) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function stripPrefix(text, prefix) {
  return text.slice(0, prefix.length).toLowerCase() === prefix
    ? text.slice(prefix.length)
    : undefined;
}

/** The identity of `Convex <key>:<identity>`: standard base64 (padding optional) of a JSON object. */
function actingAs(encoded) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) {
    throw new SystemError(401, "InvalidAuthHeader", "The acting-as identity is not base64");
  }
  let identity;
  try {
    identity = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
  } catch (error) {
    throw new SystemError(
      401,
      "InvalidAuthHeader",
      `The acting-as identity is not JSON: ${error.message}`,
    );
  }
  if (identity === null || typeof identity !== "object" || Array.isArray(identity)) {
    throw new SystemError(401, "InvalidAuthHeader", "The acting-as identity is not a JSON object");
  }
  return identity;
}

/**
 * Who a request runs as: `{ identity, admin }`, `identity` being the user identity object or
 * `undefined`. `header` is the `Authorization` value or `undefined`; `queryKey` the `adminKey` query
 * parameter, if any. `tokens` maps bearer tokens to identities. Throws a `SystemError` (401) for a
 * header the server does not accept.
 */
export function authenticate(header, queryKey, { adminKey, tokens }) {
  if (header === undefined) {
    if (queryKey !== undefined && queryKey !== null) {
      if (!sameSecret(queryKey, adminKey)) {
        throw new SystemError(
          401,
          "BadAdminKey",
          "The provided admin key was invalid for this instance",
        );
      }
      return { identity: undefined, admin: true };
    }
    return { identity: undefined, admin: false };
  }
  const bearer = stripPrefix(header, "bearer ");
  if (bearer !== undefined) {
    const identity = tokens.get(bearer.trim());
    if (identity === undefined) {
      throw new SystemError(
        401,
        "InvalidAuthHeader",
        "Could not verify the token: it is not one of the tokens this server was started with",
      );
    }
    return { identity, admin: false };
  }
  const key = stripPrefix(header, "convex ");
  if (key !== undefined) {
    const trimmed = key.trim();
    if (sameSecret(trimmed, adminKey)) {
      return { identity: undefined, admin: true };
    }
    // An admin key may hold `:` itself (`prod:happy-otter-123|…`): the identity follows the last one.
    const colon = trimmed.lastIndexOf(":");
    if (colon !== -1 && sameSecret(trimmed.slice(0, colon), adminKey)) {
      return { identity: actingAs(trimmed.slice(colon + 1)), admin: true };
    }
    throw new SystemError(
      401,
      "BadAdminKey",
      "The provided admin key was invalid for this instance",
    );
  }
  throw new SystemError(401, "InvalidAuthHeader", "Header must begin with `Bearer ` or `Convex `");
}
