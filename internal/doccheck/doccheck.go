// Package doccheck keeps doc comments from naming identifiers that do not
// exist. A rename that the compiler follows everywhere leaves the prose
// behind: "see SQSConfig.Validate" still reads well after Validate is
// gone, and a [doc link] to it silently renders as plain text. `make lint`
// runs it (tools/doccheck) over the module and examples/invoices.
//
// It reads comments with go/parser only, so it needs no build and no
// type checker, and it checks what can be decided from declarations alone:
//
//   - doc links to a name, a type's member, a package's name or a
//     package's type's member, whose package is this one or another
//     package of the module;
//   - qualified names in prose and code blocks: a member of a type of this
//     package, or a name (or a type's member) of a package of the module
//     (a local variable such as cfg.Key is left alone: its type is not
//     known without type checking);
//   - bare names of the shapes an API renames most (Err…, Default…, New…
//     and MustNew…), which must be declared somewhere in the module.
//
// Metavariables in a comment, as in this one, are written in lower case
// or with an ellipsis, which the check does not take for names.
//
// Names of other modules and of the standard library (sqs.Client,
// slog.Default) are not checked: they are not this module's to rename.
package doccheck

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Problem is one name a doc comment uses that does not exist.
type Problem struct {
	Pos  token.Position
	Name string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: doc comment names %s, which does not exist", p.Pos, p.Name)
}

// pkg is what the check knows of one package: its declarations and the
// members (fields, methods) of its types.
type pkg struct {
	name    string
	dir     string
	files   []*ast.File
	decls   map[string]bool
	members map[string]map[string]bool // type → field and method names
	open    map[string]bool            // types that embed a type from elsewhere: members unknown
	imports []importRef
	path    string          // import path, set by Check
	names   map[string]bool // every member name: a field may have an API-shaped name
	foreign map[string]bool // names of imports from outside the checked roots: xray, sqs
}

// Check reads every package under each root (a module's directory;
// directories named testdata, hidden ones and nested modules are skipped)
// and returns the problems of all of them, sorted by position.
func Check(roots ...string) ([]Problem, error) {
	fset := token.NewFileSet()
	var pkgs []*pkg
	known := map[string]bool{}
	for _, root := range roots {
		ps, err := load(fset, root)
		if err != nil {
			return nil, err
		}
		mod := modulePath(root)
		for _, p := range ps {
			rel, _ := filepath.Rel(root, p.dir)
			p.path = strings.TrimSuffix(mod+"/"+filepath.ToSlash(rel), "/.")
			known[p.path] = true
		}
		pkgs = append(pkgs, ps...)
	}
	for _, p := range pkgs {
		for _, im := range p.imports {
			if !known[im.path] {
				p.foreign[im.name] = true
			}
		}
	}
	byName := map[string][]*pkg{}
	anywhere := map[string]bool{}
	for _, p := range pkgs {
		byName[p.name] = append(byName[p.name], p)
		for d := range p.decls {
			anywhere[d] = true
		}
	}
	c := &checker{fset: fset, byName: byName, anywhere: anywhere}
	for _, p := range pkgs {
		c.pkg(p)
	}
	sort.Slice(c.problems, func(i, j int) bool {
		a, b := c.problems[i].Pos, c.problems[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Line < b.Line
	})
	return c.problems, nil
}

// modulePath is the module line of root's go.mod, or root's name.
func modulePath(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
				return strings.TrimSpace(rest)
			}
		}
	}
	return filepath.Base(root)
}

func load(fset *token.FileSet, root string) ([]*pkg, error) {
	var pkgs []*pkg
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		base := d.Name()
		if path != root && (base == "testdata" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || base == "node_modules") {
			return filepath.SkipDir
		}
		if path != root {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		p, err := parseDir(fset, path)
		if err != nil {
			return err
		}
		if p != nil {
			pkgs = append(pkgs, p)
		}
		return nil
	})
	return pkgs, err
}

// parseDir parses the non-test Go files of dir: what go doc shows.
func parseDir(fset *token.FileSet, dir string) (*pkg, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	p := &pkg{dir: dir, decls: map[string]bool{}, members: map[string]map[string]bool{}, open: map[string]bool{}, names: map[string]bool{}, foreign: map[string]bool{}}
	embeds := map[string][]string{} // type → embedded types of this package
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if p.name == "" {
			p.name = f.Name.Name
		}
		if f.Name.Name != p.name {
			continue // a second package in one directory (a "package main" tool, say)
		}
		p.files = append(p.files, f)
		for _, im := range f.Imports {
			path := strings.Trim(im.Path.Value, `"`)
			name := path[strings.LastIndex(path, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			p.imports = append(p.imports, importRef{name: name, path: path})
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					p.decls[d.Name.Name] = true
					continue
				}
				if t := recvType(d.Recv.List[0].Type); t != "" {
					p.member(t, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						p.decls[s.Name.Name] = true
						if p.members[s.Name.Name] == nil {
							p.members[s.Name.Name] = map[string]bool{}
						}
						embeds[s.Name.Name] = p.typeMembers(s.Name.Name, s.Type)
					case *ast.ValueSpec:
						for _, n := range s.Names {
							p.decls[n.Name] = true
						}
					}
				}
			}
		}
	}
	if p.name == "" {
		return nil, nil
	}
	// Promote the members of embedded types of this package, to a fixed
	// point (embedding chains are short).
	for changed := true; changed; {
		changed = false
		for t, es := range embeds {
			for _, e := range es {
				if p.open[e] && !p.open[t] {
					p.open[t], changed = true, true
				}
				for m := range p.members[e] {
					if !p.members[t][m] {
						p.member(t, m)
						changed = true
					}
				}
			}
		}
	}
	return p, nil
}

type importRef struct{ name, path string }

func (p *pkg) member(t, m string) {
	if p.members[t] == nil {
		p.members[t] = map[string]bool{}
	}
	p.members[t][m] = true
	p.names[m] = true
}

// typeMembers records the fields and interface methods of a type and
// returns the names of the types of this package it embeds. Embedding a
// type from elsewhere makes the type open.
func (p *pkg) typeMembers(name string, expr ast.Expr) []string {
	var list *ast.FieldList
	switch t := expr.(type) {
	case *ast.StructType:
		list = t.Fields
	case *ast.InterfaceType:
		list = t.Methods
	default:
		return nil
	}
	var embeds []string
	for _, f := range list.List {
		for _, n := range f.Names {
			p.member(name, n.Name)
		}
		if len(f.Names) > 0 {
			continue
		}
		switch e := unparen(f.Type).(type) {
		case *ast.Ident:
			p.member(name, e.Name)
			embeds = append(embeds, e.Name)
		case *ast.SelectorExpr:
			p.member(name, e.Sel.Name)
			p.open[name] = true
		default:
			p.open[name] = true // a type union or a generic embedding
		}
	}
	return embeds
}

func unparen(e ast.Expr) ast.Expr {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		default:
			return e
		}
	}
}

func recvType(e ast.Expr) string {
	if id, ok := unparen(e).(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

type checker struct {
	fset     *token.FileSet
	byName   map[string][]*pkg
	anywhere map[string]bool
	problems []Problem
}

var (
	// docLink is a doc link to a name, a type's member, a package's name
	// or a package's type's member, optionally starred; the first letter
	// after the package must be upper case, so that [i] or [n] in prose
	// are not taken for links, and the bracket must not follow a name (an
	// instantiation such as Event[T] or an index).
	docLink = regexp.MustCompile(`(?:^|[^\w\])])\[\*?((?:[a-z]\w*\.)?[A-Z]\w*(?:\.[A-Z]\w*)?)\]`)
	// qualified is x.y or x.y.z where y starts upper case: a type's
	// member, a package's name, a package's type's member. A generic
	// type's instantiation is skipped (Result[T].KeyHash). It must not
	// follow a dot or a slash (a path or a longer selector), nor "${" (a
	// CloudFormation substitution).
	qualified = regexp.MustCompile(`(^|[^\w./{$])([A-Za-z_]\w*)(?:\[[\w, .*]*\])?\.([A-Z]\w*)(?:\.([A-Z]\w*))?`)
	// apiShaped are the bare names an API renames most.
	apiShaped = regexp.MustCompile(`(^|[^\w./{$])((?:Err|Default|MustNew|New)[A-Z]\w*)`)
)

// pkg checks the doc comments of p: the package's, its declarations',
// their fields' and methods'. Comments inside function bodies are not
// documentation and may well name another package's identifiers bare.
func (c *checker) pkg(p *pkg) {
	for _, f := range p.files {
		var groups []*ast.CommentGroup
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.File:
				groups = append(groups, n.Doc)
			case *ast.GenDecl:
				groups = append(groups, n.Doc)
			case *ast.FuncDecl:
				groups = append(groups, n.Doc)
				return false
			case *ast.TypeSpec:
				groups = append(groups, n.Doc, n.Comment)
			case *ast.ValueSpec:
				groups = append(groups, n.Doc, n.Comment)
			case *ast.Field:
				groups = append(groups, n.Doc, n.Comment)
			}
			return true
		})
		for _, cg := range groups {
			if cg == nil {
				continue
			}
			for _, cm := range cg.List {
				c.comment(p, cm)
			}
		}
	}
}

func (c *checker) comment(p *pkg, cm *ast.Comment) {
	pos := c.fset.Position(cm.Slash)
	sc := bufio.NewScanner(strings.NewReader(cm.Text))
	for line := 0; sc.Scan(); line++ {
		text := sc.Text()
		if line == 0 && strings.HasPrefix(text, "//go:") || strings.HasPrefix(text, "//line ") {
			continue
		}
		at := pos
		at.Line += line
		at.Column = 0
		seen := map[string]bool{}
		report := func(name string) {
			if key := strings.Trim(name, "[]"); !seen[key] {
				seen[key] = true
				c.problems = append(c.problems, Problem{Pos: at, Name: name})
			}
		}
		for _, m := range docLink.FindAllStringSubmatch(text, -1) {
			if !c.resolves(p, strings.Split(m[1], "."), true) {
				report("[" + m[1] + "]")
			}
		}
		for _, ix := range qualified.FindAllStringSubmatchIndex(text, -1) {
			m := make([]string, 5)
			for i := range m {
				if ix[2*i] >= 0 {
					m[i] = text[ix[2*i]:ix[2*i+1]]
				}
			}
			if strings.HasPrefix(text[ix[1]:], "*") || p.foreign[m[2]] {
				continue // a family of names (handler.DLQAttr*), or an import from elsewhere
			}
			parts := []string{m[2], m[3]}
			if m[4] != "" {
				parts = append(parts, m[4])
			}
			if !c.resolves(p, parts, false) {
				report(strings.Join(parts, "."))
			}
		}
		for _, m := range apiShaped.FindAllStringSubmatch(text, -1) {
			if !c.anywhere[m[2]] && !p.names[m[2]] {
				report(m[2])
			}
		}
	}
}

// resolves reports whether parts names something that exists, or names
// something the check cannot know (another module's package, a local
// variable). strict is for doc links, whose first part must be a package
// or a name of this package.
func (c *checker) resolves(p *pkg, parts []string, strict bool) bool {
	first := parts[0]
	if p.decls[first] {
		if len(parts) == 1 {
			return true
		}
		if _, isType := p.members[first]; !isType {
			return !strict // a method of a variable's type: not known here
		}
		return p.open[first] || p.members[first][parts[1]]
	}
	var others []*pkg
	for _, o := range c.byName[first] {
		if visible(o.path, p.path) {
			others = append(others, o)
		}
	}
	if len(others) > 0 {
		rest := parts[1:]
		for _, o := range others {
			if !o.decls[rest[0]] {
				continue
			}
			if len(rest) == 1 {
				return true
			}
			if _, isType := o.members[rest[0]]; !isType {
				return !strict
			}
			if o.open[rest[0]] || o.members[rest[0]][rest[1]] {
				return true
			}
		}
		return false
	}
	if strict {
		// [pkg.Name] of a package outside the module is not known here;
		// [Name] must be declared in this package.
		return !isUpper(first)
	}
	return true // a local variable, another module's package: not known here
}

// visible reports whether a package at path from may import the package
// at path to: not when to is inside an internal directory that from is
// not under. A comment's env.Table in pkg/latchtest/emulator is a local
// variable, not functions/internal/env.
func visible(to, from string) bool {
	i := strings.LastIndex(to, "/internal/")
	if i < 0 {
		if strings.HasSuffix(to, "/internal") {
			i = len(to) - len("/internal")
		} else {
			return true
		}
	}
	return strings.HasPrefix(from, to[:i])
}

func isUpper(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }
