package privilege

import (
	"github.com/dolthub/go-mysql-server/sql"
)

// GrantSchema gives the session's account privs on database db, as
// HeatWave gives a user its ML_SCHEMA_<user> model catalog when ML_TRAIN
// creates it.
func (c *Checker) GrantSchema(ctx *sql.Context, db string, privs ...sql.PrivilegeType) error {
	if c.db == nil || !c.db.Enabled() {
		return nil
	}
	cl := ctx.Session.Client()
	ed := c.db.Editor()
	defer ed.Close()
	u := c.db.GetUser(ed, cl.User, cl.Address, false)
	if u == nil {
		return nil
	}
	u.PrivilegeSet.AddDatabase(db, privs...)
	ed.PutUser(u)
	return c.db.Persist(ctx, ed)
}
