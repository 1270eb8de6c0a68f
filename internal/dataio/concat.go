package dataio

import (
	"bufio"
	"bytes"
	"io"
)

// AppendFile copies src to dst for a load of several files as one: the
// first skip lines (ended by term) are dropped, as IGNORE n LINES does for
// each file, and a last line without a terminator gets one, so it does not
// run into the next file's first line. It returns the bytes written.
func AppendFile(dst io.Writer, src io.Reader, skip int, term []byte) (int64, error) {
	if len(term) == 0 {
		term = []byte("\n")
	}
	br := bufio.NewReaderSize(src, 1<<20)
	last := term[len(term)-1]
	for ; skip > 0; skip-- {
		if err := skipLine(br, term, last); err == io.EOF {
			return 0, nil
		} else if err != nil {
			return 0, err
		}
	}
	tail := make([]byte, 0, len(term))
	var n int64
	buf := make([]byte, 1<<20)
	for {
		k, err := br.Read(buf)
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

// skipLine consumes through the next term; io.EOF when there is none.
func skipLine(br *bufio.Reader, term []byte, last byte) error {
	var seen []byte
	for {
		chunk, err := br.ReadSlice(last)
		seen = keepTail(seen, chunk, len(term))
		if err == nil && bytes.Equal(seen, term) {
			return nil
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return err
		}
	}
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
