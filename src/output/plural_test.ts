import assert from "node:assert/strict";
import { entity } from "../db/schema.ts";
import { kindCount, plural } from "./plural.ts";

Deno.test("plural: the singular for exactly one, the plural otherwise", () => {
  assert.equal(plural(1, "commitment"), "1 commitment");
  assert.equal(plural(0, "commitment"), "0 commitments");
  assert.equal(plural(2, "day"), "2 days");
  assert.equal(plural(1, "inbox item"), "1 inbox item");
  assert.equal(plural(3, "person", "people"), "3 people");
});

Deno.test("kindCount names kinds as a user reads them", () => {
  assert.equal(kindCount(1, entity("commitment")), "1 commitment");
  assert.equal(kindCount(2, entity("stakeholder")), "2 stakeholders");
  assert.equal(kindCount(1, entity("inbox")), "1 inbox item");
  assert.equal(kindCount(0, entity("inbox")), "0 inbox items");
});
