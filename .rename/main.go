// Command rename moves references from one package's identifiers to another's, as
// listed in moves.txt (run it through rename.sh). It is made to be run again on a
// tree that changed meanwhile (a merge of branches that still use the old names):
// every reference it finds is rewritten, one already rewritten is left alone.
//
// The old declarations are gone when it runs, so the tree does not type-check as
// it is. Rename therefore writes a temporary file into each old package that
// declares every moved name as an alias of its new home (type T = domain.T,
// const C = domain.C, var F = domain.F), type-checks the module with its tests,
// rewrites each identifier that resolves to one of those aliases (activities.Line
// from another package, Line inside activities) to the new qualified name, fixes
// the imports of the files it changed, and removes the temporary files. Because
// the rewrite follows type information, struct fields, composite-literal keys and
// local variables that share a moved name are never touched. Qualified mentions
// in comments ("workflows.Stage values") are rewritten by text.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/packages"
)

// aliasFile is the temporary file written into each old package.
const aliasFile = "zz_rename_aliases.go"

// aliasImportName names the new package inside the alias file, so that it cannot
// clash with a declaration of the old package.
const aliasImportName = "renamenewpkg"

// move is one line of moves.txt, with package paths relative to the module.
type move struct {
	oldPkg, oldName string
	newPkg, newName string
}

// edit replaces the bytes [start, end) of a file.
type edit struct {
	start, end int
	text       string
	code       bool   // a code reference (not a comment): the file needs the new import
	old        string // the moved name, "activities.Line", for the summary
}

func main() {
	root := flag.String("root", "..", "module root")
	movesFile := flag.String("moves", "moves.txt", "list of moves")
	dryRun := flag.Bool("n", false, "list the references that would change, change nothing")
	flag.Parse()
	if err := run(*root, *movesFile, *dryRun); err != nil {
		fmt.Fprintln(os.Stderr, "rename:", err)
		os.Exit(1)
	}
}

func run(root, movesFile string, dryRun bool) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	module, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return err
	}
	moves, err := readMoves(movesFile)
	if err != nil {
		return err
	}
	if err := checkOldDeclarationsGone(root, moves); err != nil {
		return err
	}
	aliasPaths, err := writeAliases(root, module, moves)
	defer func() {
		for _, p := range aliasPaths {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				fmt.Fprintln(os.Stderr, "rename: remove", p, err)
			}
		}
	}()
	if err != nil {
		return err
	}
	pkgs, err := packages.Load(&packages.Config{
		Dir:   root,
		Mode:  packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports,
		Tests: true,
	}, "./...")
	if err != nil {
		return fmt.Errorf("load packages: %w", err)
	}
	byOld := map[string]move{} // "<module>/activities.Line"
	for _, m := range moves {
		byOld[module+"/"+m.oldPkg+"."+m.oldName] = m
	}
	isAlias := map[string]bool{}
	for _, p := range aliasPaths {
		isAlias[p] = true
	}
	edits := map[string]map[[2]int]edit{} // file -> (start, end) -> edit
	typeErrors := 0
	for _, pkg := range pkgs {
		typeErrors += len(pkg.TypeErrors)
		for i, f := range pkg.Syntax {
			file := pkg.CompiledGoFiles[i]
			if isAlias[file] || !strings.HasPrefix(file, root+string(filepath.Separator)) || !strings.HasSuffix(file, ".go") {
				continue
			}
			fe, err := fileEdits(pkg, f, module, byOld, isAlias)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			if edits[file] == nil {
				edits[file] = map[[2]int]edit{}
			}
			for _, e := range fe {
				edits[file][[2]int{e.start, e.end}] = e
			}
		}
	}
	if err := commentEdits(root, moves, edits); err != nil {
		return err
	}
	files := make([]string, 0, len(edits))
	counts := map[string]int{}
	for f, es := range edits {
		if len(es) > 0 {
			files = append(files, f)
		}
		for _, e := range es {
			if e.code {
				counts[e.old]++
			} else {
				counts[e.old+" (comments)"]++
			}
		}
	}
	sort.Strings(files)
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		if dryRun {
			fmt.Printf("%s: %d references\n", rel, len(edits[f]))
			continue
		}
		if err := apply(f, edits[f], module, moves); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("  %-40s %d\n", n, counts[n])
	}
	verb := "rewrote"
	if dryRun {
		verb = "would rewrite"
	}
	fmt.Printf("rename: %s references in %d files", verb, len(files))
	if typeErrors > 0 {
		// Expected: code that used a moved constant as an untyped string now needs
		// a hand fix; the build says where.
		fmt.Printf(" (the type check reported %d errors: go build ./... lists what needs a hand fix)", typeErrors)
	}
	fmt.Println()
	return nil
}

// fileEdits finds the code references of one file to moved identifiers.
func fileEdits(pkg *packages.Package, f *ast.File, module string, byOld map[string]move, isAlias map[string]bool) ([]edit, error) {
	moved := func(id *ast.Ident) (move, bool) {
		obj := pkg.TypesInfo.Uses[id]
		if obj == nil || obj.Pkg() == nil {
			return move{}, false
		}
		if !isAlias[pkg.Fset.Position(obj.Pos()).Filename] {
			return move{}, false
		}
		m, ok := byOld[obj.Pkg().Path()+"."+obj.Name()]
		return m, ok
	}
	tok := pkg.Fset.File(f.Pos())
	var out []edit
	done := map[*ast.Ident]bool{}
	var err error
	add := func(n ast.Node, m move) {
		if e := checkNewName(pkg, f, n.Pos(), module+"/"+m.newPkg); e != nil && err == nil {
			err = e
		}
		out = append(out, edit{start: tok.Offset(n.Pos()), end: tok.Offset(n.End()), text: path.Base(m.newPkg) + "." + m.newName, code: true, old: m.oldPkg + "." + m.oldName})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		if _, ok := pkg.TypesInfo.Uses[x].(*types.PkgName); !ok {
			return true
		}
		if m, ok := moved(sel.Sel); ok {
			add(sel, m)
			done[sel.Sel] = true
		}
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || done[id] {
			return true
		}
		if m, ok := moved(id); ok {
			add(id, m)
		}
		return true
	})
	return out, err
}

// checkNewName makes sure that the new package's name means that package at pos:
// not a local variable, not another import.
func checkNewName(pkg *packages.Package, f *ast.File, pos token.Pos, newPath string) error {
	name := path.Base(newPath)
	for _, imp := range f.Imports {
		p := strings.Trim(imp.Path.Value, `"`)
		if imp.Name != nil && imp.Name.Name == name && p != newPath {
			return fmt.Errorf("imports %s as %s: rename that import first", p, name)
		}
		if imp.Name == nil && path.Base(p) == name && p != newPath {
			return fmt.Errorf("imports %s, also named %s: rename that import first", p, name)
		}
	}
	scope := pkg.Types.Scope().Innermost(pos)
	if scope == nil {
		return nil
	}
	if _, obj := scope.LookupParent(name, pos); obj != nil {
		if pn, ok := obj.(*types.PkgName); !ok || pn.Imported().Path() != newPath {
			return fmt.Errorf("%s: %q is declared here (%s): rename it first", pkg.Fset.Position(pos), name, pkg.Fset.Position(obj.Pos()))
		}
	}
	return nil
}

// commentEdits rewrites qualified mentions in comments ("activities.Line",
// "workflows.Stage values") in every Go file of the module.
func commentEdits(root string, moves []move, edits map[string]map[[2]int]edit) error {
	byQualified := map[string]move{}
	var alts []string
	for _, m := range moves {
		q := path.Base(m.oldPkg) + "." + m.oldName
		byQualified[q] = m
		alts = append(alts, regexp.QuoteMeta(q))
	}
	sort.Slice(alts, func(i, j int) bool { return len(alts[i]) > len(alts[j]) })
	re := regexp.MustCompile(`\b(` + strings.Join(alts, "|") + `)\b`)
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor" || d.Name() == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || d.Name() == aliasFile {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		tok := fset.File(f.Pos())
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				for _, loc := range re.FindAllStringIndex(c.Text, -1) {
					// "x.activities.Line" is something else.
					if loc[0] > 0 && c.Text[loc[0]-1] == '.' {
						continue
					}
					m := byQualified[c.Text[loc[0]:loc[1]]]
					start := tok.Offset(c.Pos()) + loc[0]
					if edits[p] == nil {
						edits[p] = map[[2]int]edit{}
					}
					edits[p][[2]int{start, start + loc[1] - loc[0]}] = edit{start: start, end: start + loc[1] - loc[0], text: path.Base(m.newPkg) + "." + m.newName, old: m.oldPkg + "." + m.oldName}
				}
			}
		}
		return nil
	})
}

// apply writes the edits into the file and fixes its imports: the new package is
// imported where a code reference was rewritten, an old package no longer used is
// dropped.
func apply(file string, es map[[2]int]edit, module string, moves []move) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	list := make([]edit, 0, len(es))
	for _, e := range es {
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].start > list[j].start })
	for i := 1; i < len(list); i++ {
		if list[i].end > list[i-1].start {
			return fmt.Errorf("overlapping edits at offsets %d and %d", list[i].start, list[i-1].start)
		}
	}
	needs := map[string]bool{}
	for _, e := range list {
		src = append(src[:e.start], append([]byte(e.text), src[e.end:]...)...)
		if e.code {
			for _, m := range moves {
				if strings.HasPrefix(e.text, path.Base(m.newPkg)+".") {
					needs[module+"/"+m.newPkg] = true
				}
			}
		}
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return fmt.Errorf("parse after rewrite: %w", err)
	}
	// goimports style: the new import joins the project's group when the file has
	// one, else it starts a group of its own after the standard library's.
	var ownGroup []string
	for p := range needs {
		if imports(f, p) {
			continue
		}
		if hasNonStdImport(f) {
			astutil.AddImport(fset, f, p)
		} else {
			ownGroup = append(ownGroup, p)
		}
	}
	seen := map[string]bool{}
	for _, m := range moves {
		old := module + "/" + m.oldPkg
		if seen[old] {
			continue
		}
		seen[old] = true
		if !astutil.UsesImport(f, old) {
			astutil.DeleteImport(fset, f, old)
		}
	}
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return err
	}
	out, err := addImportGroup(buf.Bytes(), ownGroup)
	if err != nil {
		return err
	}
	return os.WriteFile(file, out, 0o644)
}

// imports reports whether the file imports path.
func imports(f *ast.File, path string) bool {
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) == path {
			return true
		}
	}
	return false
}

// hasNonStdImport reports whether the file imports anything outside the standard
// library (a path whose first element has a dot).
func hasNonStdImport(f *ast.File) bool {
	for _, imp := range f.Imports {
		p := strings.Trim(imp.Path.Value, `"`)
		first, _, _ := strings.Cut(p, "/")
		if strings.Contains(first, ".") {
			return true
		}
	}
	return false
}

// addImportGroup adds paths as a group of their own at the end of the file's last
// import declaration (or as a new one after the package clause), and formats.
func addImportGroup(src []byte, paths []string) ([]byte, error) {
	if len(paths) == 0 {
		return format.Source(src)
	}
	sort.Strings(paths)
	var lines strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&lines, "\t%q\n", p)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	tok := fset.File(f.Pos())
	var last *ast.GenDecl
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			last = g
		}
	}
	var out []byte
	switch {
	case last == nil:
		at := tok.Offset(f.Name.End())
		out = append(append(append([]byte{}, src[:at]...), "\n\nimport (\n"+lines.String()+")"...), src[at:]...)
	case last.Lparen.IsValid():
		at := tok.Offset(last.Rparen)
		out = append(append(append([]byte{}, src[:at]...), "\n"+lines.String()...), src[at:]...)
	default:
		start, end := tok.Offset(last.Pos()), tok.Offset(last.End())
		spec := strings.TrimSpace(strings.TrimPrefix(string(src[start:end]), "import"))
		out = append(append(append([]byte{}, src[:start]...), "import (\n\t"+spec+"\n\n"+lines.String()+")"...), src[end:]...)
	}
	return format.Source(out)
}

// writeAliases writes the temporary alias file into each old package, declaring
// every moved name by the kind of its new declaration.
func writeAliases(root, module string, moves []move) ([]string, error) {
	newPkgs := map[string]bool{}
	for _, m := range moves {
		newPkgs[module+"/"+m.newPkg] = true
	}
	var patterns []string
	for p := range newPkgs {
		patterns = append(patterns, p)
	}
	loaded, err := packages.Load(&packages.Config{Dir: root, Mode: packages.NeedName | packages.NeedTypes}, patterns...)
	if err != nil {
		return nil, fmt.Errorf("load new packages: %w", err)
	}
	scopes := map[string]*types.Scope{}
	for _, p := range loaded {
		if len(p.Errors) > 0 {
			return nil, fmt.Errorf("new package %s does not build: %v", p.PkgPath, p.Errors[0])
		}
		scopes[p.PkgPath] = p.Types.Scope()
	}
	byPkg := map[string][]move{}
	for _, m := range moves {
		byPkg[m.oldPkg] = append(byPkg[m.oldPkg], m)
	}
	var written []string
	for oldPkg, ms := range byPkg {
		dir := filepath.Join(root, filepath.FromSlash(oldPkg))
		name, err := packageName(dir)
		if err != nil {
			return written, err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "// Code generated by .rename for the duration of one run. DO NOT EDIT.\n\npackage %s\n\nimport (\n", name)
		imported := map[string]bool{}
		var decls strings.Builder
		for _, m := range ms {
			newPath := module + "/" + m.newPkg
			ref := importAlias(ms, m.newPkg) + "." + m.newName
			if !imported[newPath] {
				fmt.Fprintf(&b, "\t%s %q\n", importAlias(ms, m.newPkg), newPath)
				imported[newPath] = true
			}
			obj := scopes[newPath].Lookup(m.newName)
			if obj == nil {
				return written, fmt.Errorf("%s.%s is not declared", m.newPkg, m.newName)
			}
			switch obj := obj.(type) {
			case *types.TypeName:
				if n, ok := obj.Type().(*types.Named); ok && n.TypeParams().Len() > 0 {
					return written, fmt.Errorf("%s.%s is generic: not supported", m.newPkg, m.newName)
				}
				fmt.Fprintf(&decls, "type %s = %s\n", m.oldName, ref)
			case *types.Const:
				fmt.Fprintf(&decls, "const %s = %s\n", m.oldName, ref)
			case *types.Func:
				if obj.Type().(*types.Signature).TypeParams().Len() > 0 {
					return written, fmt.Errorf("%s.%s is generic: not supported", m.newPkg, m.newName)
				}
				fmt.Fprintf(&decls, "var %s = %s\n", m.oldName, ref)
			case *types.Var:
				fmt.Fprintf(&decls, "var %s = %s\n", m.oldName, ref)
			default:
				return written, fmt.Errorf("%s.%s: cannot alias a %T", m.newPkg, m.newName, obj)
			}
		}
		fmt.Fprintf(&b, ")\n\n%s", decls.String())
		p := filepath.Join(dir, aliasFile)
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

// importAlias is the name the alias file gives newPkg: one per new package, in
// the order of first use.
func importAlias(ms []move, newPkg string) string {
	order := map[string]int{}
	for _, m := range ms {
		if _, ok := order[m.newPkg]; !ok {
			order[m.newPkg] = len(order)
		}
	}
	return fmt.Sprintf("%s%d", aliasImportName, order[newPkg])
}

// checkOldDeclarationsGone refuses to run while an old package still declares a
// moved name: the references to it would be ambiguous.
func checkOldDeclarationsGone(root string, moves []move) error {
	var problems []string
	byPkg := map[string]map[string]bool{}
	for _, m := range moves {
		if byPkg[m.oldPkg] == nil {
			byPkg[m.oldPkg] = map[string]bool{}
		}
		byPkg[m.oldPkg][m.oldName] = true
	}
	for oldPkg, names := range byPkg {
		dir := filepath.Join(root, filepath.FromSlash(oldPkg))
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") || e.Name() == aliasFile {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			for _, d := range f.Decls {
				for _, id := range declaredNames(d) {
					if names[id.Name] {
						problems = append(problems, fmt.Sprintf("%s still declares %s.%s: remove it (its new home is listed in moves.txt)", fset.Position(id.Pos()), oldPkg, id.Name))
					}
				}
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// declaredNames are the package-level names a declaration declares.
func declaredNames(d ast.Decl) []*ast.Ident {
	var out []*ast.Ident
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			out = append(out, d.Name)
		}
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				out = append(out, s.Name)
			case *ast.ValueSpec:
				out = append(out, s.Names...)
			}
		}
	}
	return out
}

// packageName is the name of the non-test package in dir.
func packageName(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") || e.Name() == aliasFile {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, e.Name()), nil, parser.PackageClauseOnly)
		if err != nil {
			return "", err
		}
		return f.Name.Name, nil
	}
	return "", fmt.Errorf("no Go package in %s", dir)
}

// modulePath reads the module path from go.mod.
func modulePath(goMod string) (string, error) {
	f, err := os.Open(goMod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", goMod)
}

// readMoves reads "old new" pairs such as "activities.Line domain.Line".
func readMoves(file string) ([]move, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out []move
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"old new\"", file, i+1)
		}
		var m move
		var ok1, ok2 bool
		m.oldPkg, m.oldName, ok1 = cutLast(fields[0])
		m.newPkg, m.newName, ok2 = cutLast(fields[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s:%d: want package.Name on both sides", file, i+1)
		}
		out = append(out, m)
	}
	return out, nil
}

func cutLast(s string) (pkg, name string, ok bool) {
	i := strings.LastIndex(s, ".")
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}
