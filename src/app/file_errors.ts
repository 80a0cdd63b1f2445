import { JdoError } from "../errors.ts";

const HINT = "check its permissions, or set JDO_HOME to a directory you can write";

/**
 * A file jdo cannot write (read-only database, data directory or file
 * system) becomes one error naming the file and what to do, instead of a raw
 * SQLITE_READONLY or "Permission denied (os error 13)" without a path.
 * Other errors are returned as they are.
 */
export function explainFileError(error: unknown, databasePath: string): unknown {
  // Errors jdo already explained keep their words, except "cannot open the database".
  if (error instanceof JdoError && error.code !== "DB_ERROR") return error;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof Deno.errors.PermissionDenied || code === "EROFS") {
      const path = e.message.match(/: [a-z_]+ '([^']+)'/)?.[1];
      if (!path) continue;
      const why = code === "EROFS" ? "the file system is read-only" : "permission denied";
      return new JdoError("IO_ERROR", `Cannot write ${path}: ${why}`, { hint: HINT, cause: error });
    }
    if (/SQLITE_READONLY|readonly database/i.test(e.message)) {
      return new JdoError("IO_ERROR", `Cannot write ${databasePath}: permission denied`, {
        hint: HINT.replace("its", "the file's"),
        cause: error,
      });
    }
    if (/SQLITE_CANTOPEN|SQLITE_PERM\b|unable to open database file/i.test(e.message)) {
      return new JdoError("IO_ERROR", `Cannot open ${databasePath}: permission denied`, {
        hint: HINT.replace("its", "the file's and its directory's"),
        cause: error,
      });
    }
  }
  return error;
}
