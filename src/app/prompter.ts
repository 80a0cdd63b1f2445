import type * as Inquirer from "./inquirer.ts";
import { lazyModuleUrl } from "../lazy_module.ts";

/** Questions asked on a terminal; tests script the answers. */
export interface Prompter {
  input(message: string, options?: { default?: string }): Promise<string>;
  password(message: string): Promise<string>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
}

/** Raised when the user presses Ctrl-C or Ctrl-D at a prompt. */
export class PromptCancelled extends Error {}

function isExitPrompt(error: unknown): boolean {
  return error instanceof Error &&
    (error.name === "ExitPromptError" || error.name === "AbortPromptError");
}

async function guard<T>(question: () => Promise<T>): Promise<T> {
  try {
    return await question();
  } catch (error) {
    if (isExitPrompt(error)) throw new PromptCancelled("Cancelled");
    throw error;
  }
}

/** Prompts on the real terminal, loaded only when a prompt is needed. */
export function terminalPrompter(): Prompter {
  // A variable specifier (src/lazy_module.ts says why).
  const lib = (): Promise<typeof Inquirer> => import(lazyModuleUrl("app/inquirer.ts"));
  return {
    input: async (message, options) => {
      const { input } = await lib();
      return guard(() => input({ message, default: options?.default }));
    },
    password: async (message) => {
      const { password } = await lib();
      return guard(() => password({ message, mask: "*" }));
    },
    confirm: async (message, defaultValue) => {
      const { confirm } = await lib();
      return guard(() => confirm({ message, default: defaultValue }));
    },
  };
}

/**
 * A prompter that answers from a list, for tests; fails when it runs out.
 * An empty answer to `input` takes its default, as Enter does.
 */
export function scriptedPrompter(
  answers: (string | boolean)[],
): Prompter & { asked: string[]; defaults: (string | undefined)[] } {
  const asked: string[] = [];
  const defaults: (string | undefined)[] = [];
  const next = (message: string) => {
    asked.push(message);
    if (answers.length === 0) {
      throw new Error(`No scripted answer for "${message}"`);
    }
    return answers.shift()!;
  };
  return {
    asked,
    defaults,
    input: (message, options) => {
      defaults.push(options?.default);
      const answer = String(next(message));
      return Promise.resolve(answer === "" ? options?.default ?? "" : answer);
    },
    password: (message) => Promise.resolve(String(next(message))),
    confirm: (message) => Promise.resolve(Boolean(next(message))),
  };
}
