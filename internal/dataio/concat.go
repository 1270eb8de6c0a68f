package dataio

import (
	"bytes"
	"io"
)

// AppendFile copies src to dst for a load of several files as one: a
// last line without a terminator gets one, so it does not run into the
// next file's first line. It returns the bytes written.
func AppendFile(dst io.Writer, src io.Reader, term []byte) (int64, error) {
	if len(term) == 0 {
		term = []byte("\n")
	}
	tail := make([]byte, 0, len(term))
	var n int64
	buf := make([]byte, 1<<20)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			w, werr := dst.Write(buf[:k])
			n += int64(w)
			if werr != nil {
				return n, werr
			}
			tail = keepTail(tail, buf[:k], len(term))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if n > 0 && !bytes.Equal(tail, term) {
		w, err := dst.Write(term)
		n += int64(w)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// keepTail returns the last n bytes of tail+b.
func keepTail(tail, b []byte, n int) []byte {
	if len(b) >= n {
		return append(tail[:0], b[len(b)-n:]...)
	}
	tail = append(tail, b...)
	if len(tail) > n {
		tail = append(tail[:0], tail[len(tail)-n:]...)
	}
	return tail
}
