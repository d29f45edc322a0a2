/**
 * Names student code may not redeclare.
 *
 * tslab lets a later cell redeclare any top-level name (as a REPL does), so a
 * student cell could replace `expectClose`, `tf` or a helper the tests call with
 * its own. The grader reads each student cell's top-level declarations (with the
 * TypeScript parser) and refuses to run a cell that redeclares a name an
 * instructor cell declares or imports, or a protected global.
 */
import * as ts from 'typescript';

/** Globals the tests rely on; redeclaring one at top level would shadow it for later cells. */
export const PROTECTED_GLOBALS = [
  'Object',
  'Function',
  'Array',
  'Number',
  'String',
  'Boolean',
  'Symbol',
  'Math',
  'JSON',
  'Reflect',
  'Promise',
  'Error',
  'Float32Array',
  'Int32Array',
  'Uint8Array',
  'console',
  'globalThis',
  'process',
  'require',
  'eval',
  'isFinite',
  'isNaN',
  '__genlab_grader',
];

/** Top-level names a cell declares (variables, functions, classes, enums, namespaces, imports). */
export function topLevelDeclarations(source: string): string[] {
  const file = ts.createSourceFile('cell.ts', source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names: string[] = [];
  const bindingNames = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) names.push(name.text);
    else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(el.name);
  };
  for (const stmt of file.statements) {
    if (ts.isVariableStatement(stmt)) for (const d of stmt.declarationList.declarations) bindingNames(d.name);
    else if (
      (ts.isFunctionDeclaration(stmt) ||
        ts.isClassDeclaration(stmt) ||
        ts.isEnumDeclaration(stmt) ||
        ts.isModuleDeclaration(stmt)) &&
      stmt.name &&
      ts.isIdentifier(stmt.name)
    ) {
      names.push(stmt.name.text);
    } else if (ts.isImportDeclaration(stmt) && stmt.importClause) {
      const clause = stmt.importClause;
      if (clause.name) names.push(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
      else if (bindings) for (const el of bindings.elements) names.push(el.name.text);
    } else if (ts.isImportEqualsDeclaration(stmt)) names.push(stmt.name.text);
  }
  return names;
}

/** The protected names a student cell redeclares, if any. */
export function shadowedNames(studentSource: string, protectedNames: Set<string>): string[] {
  return [...new Set(topLevelDeclarations(studentSource).filter((n) => protectedNames.has(n)))];
}
