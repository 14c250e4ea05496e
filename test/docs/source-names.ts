/**
 * Names declared in our TypeScript sources, read with the TypeScript parser (no type checking,
 * so it costs milliseconds): what a module exports, the fields of an interface.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { ROOT } from './markdown.js';

function parse(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(new URL(path, ROOT), 'utf8'), ts.ScriptTarget.Latest, true);
}

const isExported = (node: ts.Node): boolean =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/**
 * Returns the names `path` exports, values and types alike.
 * @throws Error for `export * from …`, whose names this reading cannot list (and which the bundle
 *   turns into an export of a whole shared chunk, see src/index.ts).
 */
export function exportedNames(path: string): string[] {
  const names: string[] = [];
  for (const statement of parse(path).statements) {
    if (ts.isExportDeclaration(statement)) {
      if (statement.exportClause === undefined || !ts.isNamedExports(statement.exportClause)) {
        throw new Error(`${path} has an \`export *\`: list the names instead`);
      }
      for (const element of statement.exportClause.elements) names.push(element.name.text);
    } else if (ts.isVariableStatement(statement) && isExported(statement)) {
      for (const declaration of statement.declarationList.declarations) names.push(declaration.name.getText());
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) &&
      isExported(statement) &&
      statement.name !== undefined
    ) {
      names.push(statement.name.text);
    }
  }
  return names;
}

/** Returns the field names of interface `name` in `path`, in order. @throws Error when there is no such interface. */
export function interfaceFields(path: string, name: string): string[] {
  const found = parse(path).statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
  if (found === undefined) throw new Error(`${path} declares no interface ${name}`);
  return found.members.flatMap((member) => (member.name !== undefined ? [member.name.getText()] : []));
}
