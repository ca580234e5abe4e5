// Argument validation as the backend does it (`Validator::check_value` in
// `crates/common/src/schemas/validator.rs`): the same walk, the same first error, the same texts.
// Running it before `convex-test` gives callers the backend's `ArgumentValidationError` messages
// instead of `convex-test`'s own.

import { jsonToConvex } from "convex/values";
import { displayValidator, displayValue, sortedKeys } from "./values.js";

/** A value failed its validator; `message` is the backend's text. */
export class ValidationError extends Error {
  constructor(message) {
    super(message);
    this.name = "ValidationError";
  }
}

/** `Path: .issues[0].githubId`, or nothing at the top. */
function contextText(context) {
  return context === "" ? "" : `Path: ${context}`;
}

function noMatch(value, validator, context) {
  return new ValidationError(
    `Value does not match validator.\n${contextText(context)}\nValue: ${displayValue(value)}\n` +
      `Validator: ${displayValidator(validator)}`,
  );
}

/**
 * The table of a document id, or `undefined` when the string is not an id. Ids are `convex-test`'s:
 * digits, then the table name (a real deployment's ids are opaque base32).
 */
export function tableOfId(id) {
  const match = /^([0-9]+)([A-Za-z_][A-Za-z0-9_]*)$/.exec(id);
  return match === null ? undefined : match[2];
}

function isPlainObject(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    !(value instanceof ArrayBuffer)
  );
}

/** Whether `value` has the type a leaf validator names. */
function leafMatches(type, value) {
  switch (type) {
    case "null":
      return value === null;
    case "number":
      return typeof value === "number";
    case "bigint":
    case "commitTs":
      return typeof value === "bigint";
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
    case "bytes":
      return value instanceof ArrayBuffer;
    default:
      return false;
  }
}

/** Convex equality for literals: `Object.is` (NaN equals NaN, -0 differs from 0) of like types. */
function sameLiteral(value, literal) {
  return typeof value === typeof literal && Object.is(value, literal);
}

function check(validator, value, context) {
  switch (validator.type) {
    case "any":
      return;
    case "id": {
      const table = typeof value === "string" ? tableOfId(value) : undefined;
      if (table === undefined) throw noMatch(value, validator, context);
      if (table !== validator.tableName) {
        if (table.startsWith("_")) {
          throw new ValidationError(
            `Found ID "${value}" from a system table, which does not match the table name in ` +
              `validator \`v.id("${validator.tableName}")\`.${contextText(context)}`,
          );
        }
        throw new ValidationError(
          `Found ID "${value}" from table \`${table}\`, which does not match the table name in ` +
            `validator \`v.id("${validator.tableName}")\`.${contextText(context)}`,
        );
      }
      return;
    }
    case "literal": {
      const literal = jsonToConvex(validator.value);
      if (!sameLiteral(value, literal)) {
        throw new ValidationError(
          `\`${displayValue(value)}\` does not match literal validator ` +
            `\`${displayValidator(validator)}\`.${contextText(context)}`,
        );
      }
      return;
    }
    case "array":
      if (!Array.isArray(value)) throw noMatch(value, validator, context);
      value.forEach((element, i) => check(validator.value, element, `${context}[${i}]`));
      return;
    case "record":
      if (!isPlainObject(value)) throw noMatch(value, validator, context);
      for (const key of sortedKeys(value)) {
        check(validator.keys, key, `${context}.keys()`);
        check(validator.values.fieldType, value[key], `${context}.values()`);
      }
      return;
    case "object": {
      if (!isPlainObject(value)) throw noMatch(value, validator, context);
      const fields = validator.value;
      for (const name of sortedKeys(fields)) {
        if (Object.hasOwn(value, name) && value[name] !== undefined) {
          check(fields[name].fieldType, value[name], `${context}.${name}`);
        } else if (!fields[name].optional) {
          throw new ValidationError(
            `Object is missing the required field \`${name}\`. Consider wrapping the field ` +
              `validator in \`v.optional(...)\` if this is expected.\n${contextText(context)}\n` +
              `Object: ${displayValue(value)}\nValidator: ${displayValidator(validator)}`,
          );
        }
      }
      for (const name of sortedKeys(value)) {
        if (!Object.hasOwn(fields, name)) {
          throw new ValidationError(
            `Object contains extra field \`${name}\` that is not in the validator.\n` +
              `${contextText(context)}\nObject: ${displayValue(value)}\n` +
              `Validator: ${displayValidator(validator)}`,
          );
        }
      }
      return;
    }
    case "union":
      if (validator.value.length === 1) {
        check(validator.value[0], value, context);
        return;
      }
      for (const member of validator.value) {
        try {
          check(member, value, context);
          return;
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
        }
      }
      throw noMatch(value, validator, context);
    default:
      if (!leafMatches(validator.type, value)) throw noMatch(value, validator, context);
  }
}

/** Checks a Convex value against a validator's exported JSON; throws a `ValidationError`. */
export function validate(validator, value) {
  check(validator, value, "");
}
