import { ConfigError } from '../errors.js';
import { placeholderPlaces } from './shell-context.js';
import { shellQuote } from './shell-quote.js';

/** The variables a command template may use. */
export type TemplateVariable = 'type' | 'pid' | 'index' | 'response_payload' | 'response_file' | 'install_files' | 'install_bin_dir';

/**
 * Variables whose values may need quoting (a payload, a path): they must stand where a quoted
 * word is read as one literal word. The others are validated to be plain words (a number, a
 * type) and may stand anywhere.
 */
const QUOTED_VARIABLES: ReadonlySet<string> = new Set<TemplateVariable>(['response_payload', 'response_file', 'install_files', 'install_bin_dir']);

/** A value: one word, or several (each quoted, joined by spaces). */
export type TemplateValue = string | number | readonly string[];

const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}/g;
/** ROCK 1.0 wrote its templates for Python's str.format: `{pid}`, `{model_service_type}`. */
const PYTHON_PLACEHOLDER = /(?<![$\w])\{(type|model_service_type|pid|index|response_payload|response_file)\}/;

/** The `${name}` placeholders in `template`, in order of appearance (`$${` is a literal `${`, not a placeholder). */
export function templateVariables(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match[1] !== undefined) names.push(match[1]);
  }
  return names;
}

/**
 * Checks that `template` (the value of config field `field`) uses only `allowed` variables, every
 * one of `required`, and a value that needs quoting only where the shell reads the quoting as
 * one word (not inside quotes, a comment, a here-document or after a backslash).
 * @throws ConfigError naming the field and the offending variable, and saying how to write it.
 */
export function checkTemplate(
  field: string,
  template: string,
  allowed: readonly TemplateVariable[],
  required: readonly TemplateVariable[] = [],
): void {
  const python = PYTHON_PLACEHOLDER.exec(template);
  if (python) {
    const name = python[1] === 'model_service_type' ? 'type' : python[1]!;
    throw new ConfigError(
      `${field}: ${python[0]} in ${JSON.stringify(template)} is a ROCK 1.0 placeholder (Python's str.format); write \${${name}}`,
      field,
    );
  }
  const used = templateVariables(template);
  for (const name of used) {
    if (!(allowed as readonly string[]).includes(name)) {
      const may = allowed.length ? `may use ${allowed.map((v) => '${' + v + '}').join(', ')}` : 'takes no variables';
      throw new ConfigError(
        `${field}: unknown template variable \${${name}} in ${JSON.stringify(template)}; ${field} ${may}. ` +
          `To pass a literal \${...} to the shell, write $\${...}.`,
        field,
      );
    }
  }
  for (const name of required) {
    if (!used.includes(name)) {
      throw new ConfigError(
        `${field}: the template ${JSON.stringify(template)} does not use \${${name}}; add it where the command takes that value.`,
        field,
      );
    }
  }
  checkQuoting(field, template);
}

function checkQuoting(field: string, template: string): void {
  const { places, unterminated } = placeholderPlaces(template);
  for (const place of places) {
    if (place.context === undefined || !QUOTED_VARIABLES.has(place.name)) continue;
    throw new ConfigError(
      `${field}: \${${place.name}} stands inside ${place.context} in ${JSON.stringify(template)}. Its value is shell-quoted for you, ` +
        `which is one literal word only where it stands unquoted: quoted again, a value such as $(touch x) would run. ` +
        `Write \${${place.name}} bare, with no quotes, backslash, comment or here-document around it.`,
      field,
    );
  }
  if (unterminated !== undefined) {
    throw new ConfigError(`${field}: ${JSON.stringify(template)} leaves ${unterminated} open; close it`, field);
  }
}

/**
 * Replaces each `${name}` in `template` with `values[name]`, shell-quoted (a list: each item
 * quoted, joined by spaces), and `$${` with `${`.
 * @returns the command line.
 * @throws ConfigError when the template names a variable `values` does not have.
 */
export function renderCommand(template: string, values: Partial<Record<TemplateVariable, TemplateValue>>): string {
  return template.replace(PLACEHOLDER, (_match, name: string | undefined) => {
    if (name === undefined) return '${';
    const value = values[name as TemplateVariable];
    if (value === undefined) {
      throw new ConfigError(`the command template ${JSON.stringify(template)} uses \${${name}}, which has no value here`);
    }
    return typeof value === 'object' ? value.map(shellQuote).join(' ') : shellQuote(String(value));
  });
}
