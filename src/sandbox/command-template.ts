import { ConfigError } from '../errors.js';
import { shellQuote } from './shell-quote.js';

/** The variables a command template may use. */
export type TemplateVariable = 'type' | 'pid' | 'index' | 'response_payload' | 'response_file';

const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}/g;

/** The `${name}` placeholders in `template`, in order of appearance (`$${` is a literal `${`, not a placeholder). */
export function templateVariables(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match[1] !== undefined) names.push(match[1]);
  }
  return names;
}

/**
 * Checks that `template` (the value of config field `field`) uses only `allowed` variables and
 * every one of `required`.
 * @throws ConfigError naming the field and the offending variable.
 */
export function checkTemplate(
  field: string,
  template: string,
  allowed: readonly TemplateVariable[],
  required: readonly TemplateVariable[] = [],
): void {
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
}

/**
 * Replaces each `${name}` in `template` with `values[name]`, shell-quoted, and `$${` with `${`.
 * @returns the command line.
 * @throws ConfigError when the template names a variable `values` does not have.
 */
export function renderCommand(template: string, values: Partial<Record<TemplateVariable, string | number>>): string {
  return template.replace(PLACEHOLDER, (_match, name: string | undefined) => {
    if (name === undefined) return '${';
    const value = values[name as TemplateVariable];
    if (value === undefined) {
      throw new ConfigError(`the command template ${JSON.stringify(template)} uses \${${name}}, which has no value here`);
    }
    return shellQuote(String(value));
  });
}
