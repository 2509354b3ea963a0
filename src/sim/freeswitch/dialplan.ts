import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findAll, parseXml, type XmlElement } from './xml.js';

/** One application to run: name and (not yet variable-expanded) data. */
export interface DialplanAction { readonly app: string; readonly data: string; readonly inline?: boolean }

/** What the XML dialplan hunt needs from the channel. */
export interface HuntInput {
  readonly destinationNumber: string;
  readonly context: string;
  /** Caller profile fields and channel variables by name. */
  field(name: string): string | undefined;
  /** `${var}` expansion with the channel's variables. */
  expand(s: string): string;
  /** Called for `inline="true"` actions (only `set` is meaningful) while hunting. */
  runInline(app: string, data: string): void;
}

/** Contexts parsed from the XML files of a dialplan directory. */
export class Dialplan {
  private readonly contexts = new Map<string, XmlElement[]>();

  /**
   * Loads a dialplan folder laid out as FreeSWITCH's stock configuration is: every `*.xml` of `dir`
   * (sorted by name) holds whole contexts, and every `*.xml` of a sub-folder `<context>/` holds
   * extensions (inside `<include>`) for that context, as the stock `default.xml` includes
   * `default/*.xml`. As in FreeSWITCH, the first context of a name wins: a later one is ignored,
   * not merged. `$${name}` is replaced by the global variable at load time, as FreeSWITCH's
   * preprocessor does.
   */
  static loadDir(dir: string, globals: Readonly<Record<string, string>> = {}): Dialplan {
    const dp = new Dialplan();
    const read = (path: string) => readFileSync(path, 'utf8').replace(/\$\$\{([^{}]+)\}/g, (m, n: string) => globals[n] ?? m);
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) if (e.isFile() && e.name.endsWith('.xml')) dp.addXml(read(join(dir, e.name)));
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const files = readdirSync(join(dir, e.name)).filter((f) => f.endsWith('.xml')).sort();
      for (const f of files) dp.addExtensions(e.name, read(join(dir, e.name, f)));
    }
    return dp;
  }

  /** Adds the contexts of one XML document (an `<include>` or a full dialplan section); the first context of a name wins. */
  addXml(text: string): void {
    for (const ctx of findAll(parseXml(text), 'context')) {
      const name = ctx.attrs.name ?? '';
      if (this.contexts.has(name)) continue;
      this.contexts.set(name, ctx.children.filter((c) => c.name === 'extension'));
    }
  }

  /** Adds the extensions of one `<include>` file to context `name` (created when absent). */
  addExtensions(name: string, text: string): void {
    const list = this.contexts.get(name) ?? [];
    list.push(...findAll(parseXml(text), 'extension'));
    this.contexts.set(name, list);
  }

  hasContext(name: string): boolean { return this.contexts.has(name); }

  /**
   * The mod_dialplan_xml hunt: extensions in order; every condition of an extension is tested
   * (field + regex, `break` on-false by default), actions of true conditions and anti-actions of
   * false ones are collected with `$N` replaced by that condition's captures; the hunt stops at
   * the first matching extension unless it has continue="true". undefined = no route.
   */
  hunt(input: HuntInput): DialplanAction[] | undefined {
    const exts = this.contexts.get(input.context);
    if (!exts) return undefined;
    const out: DialplanAction[] = [];
    let matchedAny = false;
    for (const ext of exts) {
      const collected: DialplanAction[] = [];
      for (const cond of ext.children.filter((c) => c.name === 'condition')) {
        const { ok, captures } = testCondition(cond, input);
        const brk = cond.attrs.break ?? 'on-false';
        for (const a of cond.children.filter((c) => c.name === (ok ? 'action' : 'anti-action'))) {
          const app = a.attrs.application ?? '';
          const data = substituteCaptures(a.attrs.data ?? '', captures);
          if (a.attrs.inline === 'true') input.runInline(app, input.expand(data));
          else collected.push({ app, data });
        }
        if ((ok && brk === 'on-true') || (!ok && brk === 'on-false') || brk === 'always') break;
      }
      // FreeSWITCH creates the extension when its first (anti-)action is added.
      if (collected.length > 0) {
        matchedAny = true;
        out.push(...collected);
        if (ext.attrs.continue !== 'true') break;
      }
    }
    return matchedAny ? out : undefined;
  }
}

function testCondition(cond: XmlElement, input: HuntInput): { ok: boolean; captures: string[] } {
  const field = cond.attrs.field;
  const expr = cond.attrs.expression;
  if (field === undefined || expr === undefined) return { ok: true, captures: [] };
  const value = field.includes('${') ? input.expand(field) : (input.field(field) ?? '');
  let re: RegExp;
  try { re = new RegExp(expr); } catch { return { ok: false, captures: [] }; }
  const m = re.exec(value);
  return m ? { ok: true, captures: Array.from(m, (x) => x ?? '') } : { ok: false, captures: [] };
}

function substituteCaptures(data: string, captures: string[]): string {
  return data.replace(/\$(\d)/g, (m, d: string) => (captures.length ? captures[Number(d)] ?? '' : m));
}

/**
 * `switch_channel_expand_variables` for `${name}` (nested braces not supported); an unknown
 * variable expands to the empty string, `$${name}` (global) is left alone.
 */
export function expandVariables(s: string, lookup: (name: string) => string | undefined): string {
  return s.replace(/(\$?)\$\{([^{}]+)\}/g, (m, dollar: string, name: string) => (dollar ? m : lookup(name) ?? ''));
}
