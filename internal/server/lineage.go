package server

import (
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/ref"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/dolt/go/store/datas"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// Model lineage: a training run records the Dolt commit of every table it
// read. SibylDB's data mostly lives in Dolt working sets (a SQL COMMIT
// updates the working set; it makes no Dolt commit), which AS OF cannot
// read. So when the data a training query sees differs from its branch's
// HEAD commit, the server writes that working root as a new Dolt commit
// whose parent is HEAD and which no branch points to, and keeps it
// reachable (from garbage collection too) with the tag
// sibyl/model/<db>/<model>/v<N>/<data db>. Users' branches, their HEADs,
// working sets and dolt_log are untouched; the tags appear in dolt_tags
// and are removed with their version. When the data is a commit already
// (HEAD), that commit is recorded and no tag is made.

// Model settings shown as global system variables.
const (
	varModelLineage     = "sibyl_model_lineage"
	varModelMaxVersions = "sibyl_model_max_versions"
)

func installModelVariables() {
	sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{
		// Whether training runs pin and record the Dolt commits they
		// read (on by default; off only to measure its cost).
		&sql.MysqlSystemVariable{
			Name:    varModelLineage,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: true,
			Type:    types.NewSystemBoolType(varModelLineage),
			Default: int8(1),
		},
		// How many versions of a model are kept; older ones are removed
		// with their artifacts (never the deployed one).
		&sql.MysqlSystemVariable{
			Name:    varModelMaxVersions,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: true,
			Type:    types.NewSystemIntType(varModelMaxVersions, 1, 1000, false),
			Default: int64(models.DefaultMaxVersions),
		},
	})
}

var modelVariablesOnce atomic.Bool

// wireModelVersions gives the model manager its lineage and settings hooks.
func (s *Server) wireModelVersions() {
	if modelVariablesOnce.CompareAndSwap(false, true) {
		installModelVariables()
	}
	s.Models.Pin = s.pinTrainingData
	s.Models.Unpin = s.unpinTrainingData
	s.Models.LineageEnabled = func() bool {
		_, v, ok := sql.SystemVariables.GetGlobal(varModelLineage)
		return !ok || fmt.Sprint(v) != "0"
	}
	s.Models.MaxVersions = func() int {
		_, v, ok := sql.SystemVariables.GetGlobal(varModelMaxVersions)
		if !ok {
			return models.DefaultMaxVersions
		}
		var n int
		if _, err := fmt.Sscan(fmt.Sprint(v), &n); err != nil || n < 1 {
			return models.DefaultMaxVersions
		}
		return n
	}
}

// pinTrainingData implements models.Manager.Pin: it analyzes query in
// ctx's session, finds the tables it reads (views and subqueries
// included), and records the commit of each table's data.
func (s *Server) pinTrainingData(ctx *sql.Context, query string, tagFor func(db string) string) ([]models.TableVersion, error) {
	node, err := s.engine.AnalyzeQuery(ctx, query)
	if err != nil {
		return nil, err
	}
	type tableRef struct {
		db, table string
		asOf      any
	}
	seen := map[string]tableRef{}
	var visit func(n sql.Node)
	visit = func(n sql.Node) {
		transform.Inspect(n, func(n sql.Node) bool {
			if rt, ok := n.(*plan.ResolvedTable); ok && rt.SqlDatabase != nil {
				db := rt.SqlDatabase.Name()
				if base, _, ok := strings.Cut(db, "/"); ok {
					db = base
				}
				r := tableRef{db: db, table: rt.Table.Name(), asOf: rt.AsOf}
				seen[strings.ToLower(db+"."+r.table+fmt.Sprint(r.asOf))] = r
			}
			if ex, ok := n.(sql.Expressioner); ok {
				for _, e := range ex.Expressions() {
					transform.InspectExpr(e, func(e sql.Expression) bool {
						if sq, ok := e.(*plan.Subquery); ok {
							visit(sq.Query)
						}
						return false
					})
				}
			}
			return true
		})
	}
	visit(node)
	refs := make([]tableRef, 0, len(seen))
	for _, r := range seen {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].db+"."+refs[i].table < refs[j].db+"."+refs[j].table })

	sess := dsess.DSessFromSess(ctx.Session)
	pinned := map[string]models.TableVersion{} // by database: one commit per database
	var out []models.TableVersion
	for _, r := range refs {
		if strings.EqualFold(r.db, sql.InformationSchemaDatabaseName) || strings.EqualFold(r.db, catalog.Database) || strings.EqualFold(r.db, "mysql") {
			continue
		}
		ddb, ok := s.doltDB(ctx, r.db)
		if !ok {
			continue
		}
		if r.asOf != nil {
			c, err := resolveCommit(ctx, ddb, fmt.Sprint(r.asOf))
			if err != nil {
				return nil, err
			}
			out = append(out, models.TableVersion{DB: r.db, Table: r.table, Commit: c})
			continue
		}
		p, ok := pinned[strings.ToLower(r.db)]
		if !ok {
			commit, tag, err := pinWorkingSet(ctx, sess, ddb, r.db, tagFor(r.db))
			if err != nil {
				return nil, fmt.Errorf("database %s: %w", r.db, err)
			}
			p = models.TableVersion{DB: r.db, Commit: commit, Tag: tag}
			pinned[strings.ToLower(r.db)] = p
		}
		p.Table = r.table
		out = append(out, p)
	}
	return out, nil
}

// doltDB is the Dolt database behind a SQL database name.
func (s *Server) doltDB(ctx *sql.Context, name string) (*doltdb.DoltDB, bool) {
	db, err := s.engine.Analyzer.Catalog.DbProvider.Database(ctx, name)
	if err != nil {
		return nil, false
	}
	sdb, ok := db.(dsess.SqlDatabase)
	if !ok || sdb.DbData().Ddb == nil {
		return nil, false
	}
	return sdb.DbData().Ddb, true
}

// resolveCommit turns a commit hash, branch or tag into a commit hash.
func resolveCommit(ctx *sql.Context, ddb *doltdb.DoltDB, spec string) (string, error) {
	cs, err := doltdb.NewCommitSpec(spec)
	if err != nil {
		return "", err
	}
	oc, err := ddb.Resolve(ctx, cs, nil)
	if err != nil {
		return "", fmt.Errorf("AS OF '%s': %w", spec, err)
	}
	return oc.Addr.String(), nil
}

// pinWorkingSet returns a commit holding the data db has in ctx's
// transaction: HEAD when the working root is HEAD's, else a new commit of
// the working root (parent HEAD) on no branch, kept by tag.
func pinWorkingSet(ctx *sql.Context, sess *dsess.DoltSession, ddb *doltdb.DoltDB, db, tag string) (commit, tagName string, err error) {
	roots, ok := sess.GetRoots(ctx, db)
	if !ok {
		return "", "", fmt.Errorf("no session state for database %s", db)
	}
	head, err := sess.GetHeadCommit(ctx, db)
	if err != nil {
		return "", "", err
	}
	headHash, err := head.HashOf()
	if err != nil {
		return "", "", err
	}
	headRoot, err := head.GetRootValue(ctx)
	if err != nil {
		return "", "", err
	}
	wh, err := roots.Working.HashOf()
	if err != nil {
		return "", "", err
	}
	hh, err := headRoot.HashOf()
	if err != nil {
		return "", "", err
	}
	if wh == hh {
		return headHash.String(), "", nil
	}
	_, valHash, err := ddb.WriteRootValue(ctx, roots.Working)
	if err != nil {
		return "", "", err
	}
	meta, err := datas.NewCommitMeta("sibyldb", "sibyldb@localhost", "SibylDB: training data of "+tag)
	if err != nil {
		return "", "", err
	}
	c, err := ddb.CommitDanglingWithParentCommits(ctx, valHash, []*doltdb.Commit{head}, meta)
	if err != nil {
		return "", "", err
	}
	tr := ref.NewTagRef(tag)
	if !doltdb.IsValidTagRef(tr) {
		return "", "", fmt.Errorf("invalid lineage tag name %q", tag)
	}
	// A tag left by a version whose number was given out again (its
	// statement failed) is replaced.
	_ = ddb.DeleteTag(ctx, tr)
	if err := ddb.NewTagAtCommit(ctx, tr, c, datas.NewTagMeta("sibyldb", "sibyldb@localhost", "SibylDB model lineage")); err != nil {
		return "", "", err
	}
	h, err := c.HashOf()
	if err != nil {
		return "", "", err
	}
	return h.String(), tag, nil
}

// unpinTrainingData implements models.Manager.Unpin.
func (s *Server) unpinTrainingData(ctx *sql.Context, lineage []models.TableVersion) {
	done := map[string]bool{}
	for _, t := range lineage {
		if t.Tag == "" || done[t.DB+"/"+t.Tag] {
			continue
		}
		done[t.DB+"/"+t.Tag] = true
		if ddb, ok := s.doltDB(ctx, t.DB); ok {
			if err := ddb.DeleteTag(ctx, ref.NewTagRef(t.Tag)); err != nil {
				s.log.WithError(err).Warnf("removing lineage tag %s of database %s", t.Tag, t.DB)
			}
		}
	}
}
