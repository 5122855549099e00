/**
 * The handlebars environment shared by persona templates and question texts:
 * an isolated instance with silicon's helpers, strict lookups and no HTML
 * escaping (the output is a prompt, not a web page). Values from profiles and
 * wave context are inserted as text; handlebars never compiles data, so a
 * profile value such as "{{evil}}" is printed literally.
 */
import Handlebars from "handlebars";
import { InputError, type InputLocation } from "../errors.ts";
import { GUARDING_HELPERS, PERSONA_HELPERS } from "./helpers.ts";

type Program = hbs.AST.Program;
type Node = hbs.AST.Node;
type Expression = hbs.AST.Expression;

const env = Handlebars.create();
for (const [name, helper] of Object.entries(PERSONA_HELPERS)) env.registerHelper(name, helper);
// handlebars' own lookup returns nothing for a field that does not exist, which
// would leave a hole in the prompt; silicon's says which field is missing.
env.registerHelper("lookup", (object: unknown, field: unknown) => {
  const name = String(field);
  if (object === null || typeof object !== "object" || !Object.hasOwn(object, name)) throw new MissingFieldError(name);
  return (object as Record<string, unknown>)[name];
});

/** A field a template reads at render time that the value it reads from lacks. */
export class MissingFieldError extends Error {
  readonly field: string;
  constructor(field: string) {
    super(`no field "${field}"`);
    this.field = field;
  }
}

const BUILT_IN_BLOCKS = new Set(["if", "unless", "each", "with"]);
const KNOWN_HELPERS = new Set([...Object.keys(PERSONA_HELPERS), ...BUILT_IN_BLOCKS, "lookup"]);

export interface CompiledText {
  /** Top-level fields the text reads, in order of first use. */
  fields: string[];
  /** Fields printed or passed to a helper other than a guard: a missing value would leave a hole. */
  required: Set<string>;
  /** Fields printed as text (directly or through a helper): a list or mapping there would print as "2022,2023". */
  printed: Set<string>;
  /** Whether the template writes anything at all (not only comments and blank lines). */
  hasText: boolean;
  run(data: Record<string, unknown>): string;
}

interface FieldUse {
  required: boolean;
  printed: boolean;
}

/**
 * Parses and compiles a template. Syntax errors, partials and unknown helpers
 * are InputErrors at `where` (the line is added from the parser).
 */
export function compileText(source: string, where: InputLocation): CompiledText {
  let ast: Program;
  try {
    ast = env.parse(source);
  } catch (error) {
    throw templateError(error, where, "invalid template");
  }
  const fields = new Map<string, FieldUse>();
  collect(ast, { level: 0, blockParams: [], guarded: new Set() }, fields, where);
  const template = env.compile(ast, { strict: true, noEscape: true, knownHelpers: knownHelpersMap(), knownHelpersOnly: false });
  const named = (test: (use: FieldUse) => boolean) => new Set([...fields].filter(([, use]) => test(use)).map(([name]) => name));
  return {
    fields: [...fields.keys()],
    required: named((use) => use.required),
    printed: named((use) => use.printed),
    hasText: ast.body.some((node) => node.type !== "CommentStatement" && !(node.type === "ContentStatement" && (node as hbs.AST.ContentStatement).value.trim() === "")),
    run: (data) => template(data, { allowProtoPropertiesByDefault: false }),
  };
}

/**
 * Why a value cannot be printed into a prompt, or undefined when it can: a
 * list or mapping would print as "2022,2023" or "[object Object]", a NUL byte
 * would cut or corrupt the prompt.
 */
export function unprintable(value: unknown, field: string): string | undefined {
  if (Array.isArray(value)) return `is a list (${value.map((v) => JSON.stringify(v)).join(", ")}), which would print as "${String(value)}": print its items with {{#each ${field}}}{{this}}{{/each}}, or give a text`;
  if (value !== null && typeof value === "object") return `is a mapping (${Object.keys(value).join(", ")}), which would print as "[object Object]": print one of its keys, e.g. {{${field}.${Object.keys(value)[0] ?? "key"}}}`;
  if (typeof value === "string" && value.includes("\0")) return "contains a NUL byte (\\0): is the file binary or damaged?";
  return undefined;
}

function knownHelpersMap(): Record<string, boolean> {
  return Object.fromEntries([...KNOWN_HELPERS].map((name) => [name, true]));
}

/** Turns a handlebars exception into an InputError with the template line. */
export function templateError(error: unknown, where: InputLocation, what: string): InputError {
  const message = error instanceof Error ? error.message : String(error);
  const exception = error as { lineNumber?: number };
  const line = exception.lineNumber ?? Number(/on line (\d+)/.exec(message)?.[1] ?? NaN);
  const firstLine = message.split("\n")[0]!.replace(/ - \d+:\d+$/, "").replace(/^Parse error on line \d+:?/, "");
  const expecting = /Expecting (.*), got '([^']*)'/.exec(message);
  const detail = expecting
    ? `unexpected ${expecting[2] === "EOF" ? "end of template (a block is not closed?)" : `'${expecting[2]!.toLowerCase()}'`}`
    : firstLine.trim();
  const location: InputLocation = where.line === undefined && Number.isFinite(line) ? { ...where, line } : where;
  return new InputError(location, `${what}: ${detail}`, { cause: error });
}

interface Scope {
  /** How many context-changing blocks (each, with) enclose this node. */
  level: number;
  /** Names bound by `as |x|` in enclosing blocks. */
  blockParams: string[];
  /** Top-level fields known to be present here: inside `{{#if x}}`, or the else of `{{#unless x}}`. */
  guarded: Set<string>;
}

/** Records top-level fields; `required` stays true once any use is unguarded. */
function collect(node: Node, scope: Scope, fields: Map<string, FieldUse>, where: InputLocation, required = true): void {
  switch (node.type) {
    case "Program":
      for (const statement of (node as Program).body) collect(statement, scope, fields, where);
      return;
    case "MustacheStatement":
    case "SubExpression": {
      const { path, params, hash } = node as hbs.AST.MustacheStatement;
      const helper = helperName(path, params.length > 0 || (hash?.pairs.length ?? 0) > 0);
      if (helper === undefined) {
        use(path, scope, fields, where, { required: true, printed: true });
        return;
      }
      checkHelper(helper, path, where);
      if (helper === "lookup" && lookupOfTopLevel(params, scope, where, node)) {
        const name = (params[1] as hbs.AST.StringLiteral).value;
        fields.set(name, merge(fields.get(name), { required: required && !scope.guarded.has(name), printed: required }));
        return;
      }
      if (params.length === 0 && (hash?.pairs.length ?? 0) === 0 && Object.hasOwn(PERSONA_HELPERS, helper)) {
        throw new InputError(
          at(where, node),
          `{{${helper}}} calls the helper "${helper}" without a value; for a field of that name write {{this.${helper}}}`,
        );
      }
      visitArguments(helper, params, hash, scope, fields, where);
      return;
    }
    case "BlockStatement": {
      const block = node as hbs.AST.BlockStatement;
      const name = helperName(block.path, true)!;
      checkHelper(name, block.path, where);
      visitArguments(name, block.params, block.hash, scope, fields, where);
      const changesContext = name === "each" || name === "with";
      const tested = name === "if" || name === "unless" ? topLevelNames(block.params, scope) : [];
      const withTested = (base: Scope): Scope => ({ ...base, guarded: new Set([...base.guarded, ...tested]) });
      const inner: Scope = {
        level: changesContext ? scope.level + 1 : scope.level,
        blockParams: [...scope.blockParams, ...(block.program.blockParams ?? [])],
        guarded: scope.guarded,
      };
      collect(block.program, name === "if" ? withTested(inner) : inner, fields, where);
      if (block.inverse) collect(block.inverse, name === "unless" ? withTested(scope) : scope, fields, where);
      return;
    }
    case "PartialStatement":
    case "PartialBlockStatement":
      throw new InputError(at(where, node), "partials ({{> name}}) are not supported: write the text into the template");
    case "DecoratorBlock":
    case "Decorator":
      throw new InputError(at(where, node), "decorators are not supported");
    default:
      return; // content and comments
  }
}

function visitArguments(
  helper: string,
  params: Expression[],
  hash: hbs.AST.Hash | undefined,
  scope: Scope,
  fields: Map<string, FieldUse>,
  where: InputLocation,
): void {
  const guard = GUARDING_HELPERS[helper];
  params.forEach((param, i) => {
    const guarded = guard === "all" || (guard === "first" && i === 0) || helper === "each" || helper === "with";
    // lookup reads from its first argument (a list or mapping), it does not print it.
    const printed = !guarded && !(helper === "lookup" && i === 0);
    visitExpression(param, scope, fields, where, { required: !guarded, printed });
  });
  for (const pair of hash?.pairs ?? []) visitExpression(pair.value, scope, fields, where, { required: true, printed: true });
}

function visitExpression(expression: Expression, scope: Scope, fields: Map<string, FieldUse>, where: InputLocation, how: FieldUse): void {
  if (expression.type === "PathExpression") use(expression as hbs.AST.PathExpression, scope, fields, where, how);
  else if (expression.type === "SubExpression") collect(expression, scope, fields, where, how.required);
}

/**
 * `{{lookup this "x"}}` (or `.`, `@root`) at the top level reads field x:
 * true, so that x is checked like {{x}}. A name computed at render time
 * cannot be checked and is refused.
 */
function lookupOfTopLevel(params: Expression[], scope: Scope, where: InputLocation, node: Node): boolean {
  const target = params[0];
  if (target?.type !== "PathExpression") return false;
  const p = target as hbs.AST.PathExpression;
  const whole = p.data ? p.parts.length === 1 && p.parts[0] === "root" : p.parts.length === 0 && p.depth === scope.level;
  if (!whole) return false;
  if (params[1]?.type !== "StringLiteral") {
    throw new InputError(at(where, node), `{{lookup ${p.original} …}} needs the field name in quotes, e.g. {{lookup ${p.original} "region"}}: a name computed while rendering cannot be checked`);
  }
  return true;
}

function merge(earlier: FieldUse | undefined, now: FieldUse): FieldUse {
  return { required: (earlier?.required ?? false) || now.required, printed: (earlier?.printed ?? false) || now.printed };
}

/** The helper a mustache or block calls, or undefined when it just prints a value. */
function helperName(path: hbs.AST.PathExpression | hbs.AST.Literal, hasArguments: boolean): string | undefined {
  if (path.type !== "PathExpression") return undefined;
  const p = path as hbs.AST.PathExpression;
  if (p.data || p.depth > 0 || p.parts.length !== 1 || /^this\b/.test(p.original)) return undefined;
  const name = p.parts[0]!;
  return hasArguments || KNOWN_HELPERS.has(name) ? name : undefined;
}

function checkHelper(name: string, path: hbs.AST.Expression, where: InputLocation): void {
  if (!KNOWN_HELPERS.has(name)) {
    const known = [...KNOWN_HELPERS].filter((h) => h !== "lookup").join(", ");
    throw new InputError(at(where, path), `unknown helper "${name}": silicon provides ${known}`);
  }
}

function use(path: hbs.AST.PathExpression | hbs.AST.Expression, scope: Scope, fields: Map<string, FieldUse>, where: InputLocation, how: FieldUse): void {
  if (path.type === "PathExpression" && (path as hbs.AST.PathExpression).depth > scope.level) {
    const original = (path as hbs.AST.PathExpression).original;
    const field = original.replace(/^(\.\.\/)+/, "");
    throw new InputError(
      at(where, path),
      `{{${original}}} refers above the top of the template: "../" reaches out of an {{#each}} or {{#with}} block, and ${scope.level === 0 ? "there is none here" : `only ${scope.level} enclose this`}; write {{${field}}}`,
    );
  }
  const name = topLevelName(path, scope);
  if (name === undefined) return;
  const printed = how.printed && (path as hbs.AST.PathExpression).parts.length === 1;
  fields.set(name, merge(fields.get(name), { required: how.required && !scope.guarded.has(name), printed }));
}

/** The top-level field a path reads, if it reads one (not a block param, not inside another context). */
function topLevelName(path: hbs.AST.Expression, scope: Scope): string | undefined {
  if (path.type !== "PathExpression") return undefined;
  const p = path as hbs.AST.PathExpression;
  if (p.data) return p.parts[0] === "root" ? p.parts[1] : undefined;
  if (p.depth !== scope.level || (p.depth === 0 && scope.blockParams.includes(p.parts[0] ?? ""))) return undefined;
  return p.parts[0];
}

function topLevelNames(params: Expression[], scope: Scope): string[] {
  return params.map((param) => topLevelName(param, scope)).filter((name): name is string => name !== undefined);
}

function at(where: InputLocation, node: Node): InputLocation {
  return where.line === undefined ? { ...where, line: node.loc.start.line } : where;
}
