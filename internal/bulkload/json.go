package bulkload

import (
	"context"

	"github.com/dolthub/dolt/go/store/prolly/message"
	"github.com/dolthub/dolt/go/store/prolly/tree"
	"github.com/dolthub/dolt/go/store/val"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// smallJSON is the size below which a JSON document's stored tree is one
// leaf: Dolt's JSON chunker (tree.SerializeJsonToAddr) cuts a document
// only where a segment is at least this long (tree's minChunkSize), and
// the canonical root of a one-leaf tree is that leaf.
const smallJSON = 1 << 9

// jsonColumns lists the fields of a tuple descriptor that hold JSON
// documents by address.
func jsonColumns(d *val.TupleDesc) []bool {
	var out []bool
	for i, t := range d.Types {
		if t.Enc == val.JSONAddrEnc {
			if out == nil {
				out = make([]bool, len(d.Types))
			}
			out[i] = true
		}
	}
	return out
}

// optimizedJSON reports whether the session stores JSON documents as
// indexed trees (dolt_optimize_json, on by default), the storage
// putSmallJSON writes; off, Dolt stores them as plain blobs.
func optimizedJSON(ctx *sql.Context) bool {
	v, err := ctx.GetSessionVariable(ctx, "dolt_optimize_json")
	return err == nil && v != int8(0)
}

// putSmallJSON stores the JSON value v as field i of b when it is a small
// document, the common case of a table of per-row results: the same leaf
// blob, at the same address, as tree.PutField writes for it, without the
// general chunker's per-document scan and tree building (which cost three
// times the document's serialization). It reports false, having done
// nothing, for anything else (a NULL, a stored document, a large one).
func putSmallJSON(ctx context.Context, ns tree.NodeStore, b *val.TupleBuilder, i int, v any) (bool, error) {
	if v == nil {
		return false, nil
	}
	if _, stored := v.(tree.IndexedJsonDocument); stored {
		return false, nil
	}
	j, _, err := types.JSON.Convert(ctx, v)
	if err != nil {
		return false, nil
	}
	w, ok := j.(sql.JSONWrapper)
	if !ok {
		return false, nil
	}
	doc, err := types.MarshallJson(ctx, w)
	if err != nil || len(doc) >= smallJSON {
		return false, nil
	}
	msg := message.NewBlobSerializer(ns.Pool()).Serialize(nil, [][]byte{doc}, []uint64{1}, 0)
	nd, _, err := tree.NodeFromBytes(msg)
	if err != nil {
		return false, err
	}
	addr, err := ns.Write(ctx, nd)
	if err != nil {
		return false, err
	}
	b.PutJSONAddr(i, addr)
	return true, nil
}
