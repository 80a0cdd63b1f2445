import assert from "node:assert/strict";
import { posix } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import fc from "fast-check";
import { basename, dirname, join, urlToPath } from "./file_path.ts";

const segment = fc.constantFrom("", "/", "//", ".", "..", "a", "b.c", ".d", "jdo.db", "x y");
const path = fc.array(segment, { maxLength: 8 }).map((parts) => parts.join(""));

Deno.test("join, dirname and basename answer as node:path does (POSIX)", () => {
  fc.assert(
    fc.property(fc.array(path, { maxLength: 4 }), path, (parts, one) => {
      assert.equal(join(...parts), posix.join(...parts), JSON.stringify(parts));
      assert.equal(dirname(one), posix.dirname(one), JSON.stringify(one));
      assert.equal(basename(one), posix.basename(one), JSON.stringify(one));
    }),
    { numRuns: 5000 },
  );
  for (const p of ["/", "//", "///a//", "a/", "/a/b/", "", ".", "..", "../..", "/.."]) {
    assert.equal(dirname(p), posix.dirname(p), p);
    assert.equal(basename(p), posix.basename(p), p);
    assert.equal(join(p, "x"), posix.join(p, "x"), p);
  }
});

Deno.test("urlToPath is node:url's fileURLToPath for local files", () => {
  for (const p of ["/work/jdo", "/tmp/a b/ü/%/x#y?z", "/"]) {
    const url = pathToFileURL(p);
    assert.equal(urlToPath(url), fileURLToPath(url), p);
    assert.equal(urlToPath(url.href), fileURLToPath(url), `${p} as text`);
  }
  // Text that is not a plain file URL goes through URL, as a URL would.
  for (const href of ["file:///a/./b/../c", "file:///a/b?x=1", "file:///a%20b/c#d"]) {
    assert.equal(urlToPath(href), fileURLToPath(href), href);
  }
});
