package sqlext

import (
	"fmt"
	"strings"
)

// VectorIndexOptions rewrites MariaDB's vector index options, which the
// engine's grammar lacks, into an index comment the engine keeps with the
// table:
//
//	VECTOR INDEX vi (v) M=8 DISTANCE=cosine  ->  VECTOR INDEX vi (v) COMMENT 'm=8 distance=cosine'
//
// internal/ml/vector/vecsql reads the options back from the comment. Text
// without a VECTOR INDEX/KEY clause is returned unchanged (and cheaply: it
// is called on every statement).
func VectorIndexOptions(query string) string {
	if !containsFold(query, "VECTOR") {
		return query
	}
	toks, err := Tokens(query)
	if err != nil {
		return query
	}
	start := func(t Token) int { return t.End - len(t.Text) }
	var out strings.Builder
	last := 0
	for i := 0; i+1 < len(toks); i++ {
		if !toks[i].Is("vector") || !(toks[i+1].Is("index") || toks[i+1].Is("key")) {
			continue
		}
		j := i + 2
		for j < len(toks) && toks[j].Text != "(" {
			j++
		}
		depth := 0
		for ; j < len(toks); j++ {
			if toks[j].Text == "(" {
				depth++
			} else if toks[j].Text == ")" {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		j++
		var opts []string
		first, end := -1, -1
		for j+2 < len(toks) {
			k, eq, v := toks[j], toks[j+1], toks[j+2]
			if eq.Text != "=" || k.String || !(k.Is("m") || k.Is("distance")) {
				break
			}
			if first < 0 {
				first = start(k)
			}
			opts = append(opts, fmt.Sprintf("%s=%s", strings.ToLower(k.Text), strings.ToLower(v.Text)))
			end = v.End
			j += 3
		}
		if first < 0 {
			continue
		}
		out.WriteString(query[last:first])
		fmt.Fprintf(&out, "COMMENT '%s'", strings.Join(opts, " "))
		last = end
	}
	if last == 0 {
		return query
	}
	out.WriteString(query[last:])
	return out.String()
}
