package nntp

import (
	"bufio"
	"errors"
	"io"
)

// inflater decodes raw DEFLATE (RFC 1951) and hands out what it has
// decoded at the end of every block. compress/flate's reader keeps
// decoded bytes until a stored block (a sync flush) or a full window,
// so it waits for ever on a peer that ends each batch with zlib's
// Z_PARTIAL_FLUSH (an empty fixed block, not byte-aligned), as INN
// does. It reads a byte from below only when it needs its bits, and
// holds the 32 KiB window and one block's code tables. Its limits are
// DEFLATE's own: a code, length or distance out of range, or a
// distance past the output so far, is an error, and errors stay.
type inflater struct {
	r      io.ByteReader
	bits   uint32 // bits read but not used, the next in the low end
	nbits  uint
	win    [1 << 15]byte // the last 32 KiB of output, a ring
	pos    int           // where the next byte goes in win
	have   int           // bytes of history in win (at most its size)
	unread int           // bytes before pos not yet handed out
	block  bool          // inside a block
	final  bool          // the current block is the last
	done   bool          // the last block has ended
	stored int           // bytes left of a stored block
	huff   bool          // the current block is Huffman-coded
	lp, dp *huffman      // its literal/length and distance codes
	lit    huffman       // a dynamic block's codes
	dist   huffman
	err    error
}

const winMask = 1<<15 - 1

// huffman is a canonical code: how many codes of each length and the
// symbols in code order (as zlib's puff.c decodes them).
type huffman struct {
	count  [16]uint16
	symbol [288]uint16
}

var errCorrupt = errors.New("nntp: corrupt DEFLATE data")

var (
	lenBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	dstBase  = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	dstExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder  = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	fixedLit, fixedDist huffman
)

func init() {
	var l [288]uint8
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	fixedLit.build(l[:])
	var d [30]uint8
	for i := range d {
		d[i] = 5
	}
	fixedDist.build(d[:])
}

// newInflater reads raw DEFLATE from r, a byte at a time through a
// small buffer (which reads only what has arrived).
func newInflater(r io.Reader) *inflater {
	br, ok := r.(io.ByteReader)
	if !ok {
		br = bufio.NewReaderSize(r, 4096)
	}
	return &inflater{r: br}
}

// build makes the code of the given lengths and returns how many codes
// are left unused (0: complete; negative: over-subscribed).
func (h *huffman) build(lengths []uint8) int {
	h.count = [16]uint16{}
	for _, l := range lengths {
		h.count[l]++
	}
	if int(h.count[0]) == len(lengths) {
		return 0
	}
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return left
		}
	}
	var offs [16]uint16
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	return left
}

func (f *inflater) need(n uint) error {
	for f.nbits < n {
		b, err := f.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		f.bits |= uint32(b) << f.nbits
		f.nbits += 8
	}
	return nil
}

// getBits takes n (at most 16) bits, the first in the low end.
func (f *inflater) getBits(n uint) (int, error) {
	if err := f.need(n); err != nil {
		return 0, err
	}
	v := int(f.bits & (1<<n - 1))
	f.bits >>= n
	f.nbits -= n
	return v, nil
}

// decode reads one symbol of h, a bit at a time.
func (f *inflater) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := f.getBits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		count := int(h.count[l])
		if code-count < first {
			return int(h.symbol[index+code-first]), nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errCorrupt
}

func (f *inflater) put(b byte) {
	f.win[f.pos] = b
	f.pos = (f.pos + 1) & winMask
	f.unread++
	if f.have <= winMask {
		f.have++
	}
}

// Read hands out decoded bytes; it returns at the end of each block
// that produced any.
func (f *inflater) Read(p []byte) (int, error) {
	for f.unread == 0 {
		if f.err != nil {
			return 0, f.err
		}
		f.err = f.step()
	}
	n := min(len(p), f.unread)
	start := (f.pos - f.unread) & winMask
	c := copy(p[:n], f.win[start:])
	copy(p[c:n], f.win[:])
	f.unread -= n
	return n, nil
}

// step decodes until the current block ends or the window holds as
// much unread output as it can.
func (f *inflater) step() error {
	if !f.block {
		if f.done {
			return io.EOF
		}
		if err := f.header(); err != nil {
			return err
		}
	}
	if !f.huff {
		for f.stored > 0 && f.unread <= winMask {
			b, err := f.r.ReadByte()
			if err != nil {
				return unexpected(err)
			}
			f.put(b)
			f.stored--
		}
		if f.stored == 0 {
			f.endBlock()
		}
		return nil
	}
	for f.unread <= winMask+1-258 {
		sym, err := f.decode(f.lp)
		switch {
		case err != nil:
			return err
		case sym < 256:
			f.put(byte(sym))
			continue
		case sym == 256:
			f.endBlock()
			return nil
		case sym-257 >= len(lenBase):
			return errCorrupt
		}
		sym -= 257
		extra, err := f.getBits(uint(lenExtra[sym]))
		if err != nil {
			return err
		}
		length := int(lenBase[sym]) + extra
		dsym, err := f.decode(f.dp)
		if err != nil {
			return err
		}
		if dsym >= len(dstBase) {
			return errCorrupt
		}
		if extra, err = f.getBits(uint(dstExtra[dsym])); err != nil {
			return err
		}
		dist := int(dstBase[dsym]) + extra
		if dist > f.have {
			return errCorrupt
		}
		for range length {
			f.put(f.win[(f.pos-dist)&winMask])
		}
	}
	return nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (f *inflater) endBlock() {
	f.block = false
	f.done = f.final
}

// header reads a block's header and, for a dynamic block, its codes.
func (f *inflater) header() error {
	h, err := f.getBits(3)
	if err != nil {
		return err
	}
	f.final = h&1 == 1
	switch h >> 1 {
	case 0: // stored: to the byte boundary, then LEN and its complement
		f.bits, f.nbits = f.bits>>(f.nbits%8), f.nbits-f.nbits%8
		n, err := f.getBits(16)
		if err != nil {
			return err
		}
		c, err := f.getBits(16)
		if err != nil {
			return err
		}
		if n != ^c&0xffff {
			return errCorrupt
		}
		f.stored, f.huff = n, false
	case 1:
		f.huff, f.lp, f.dp = true, &fixedLit, &fixedDist
	case 2:
		if err := f.dynamic(); err != nil {
			return err
		}
		f.huff, f.lp, f.dp = true, &f.lit, &f.dist
	default:
		return errCorrupt
	}
	f.block = true
	return nil
}

// dynamic reads the code lengths of a dynamic block (RFC 1951 section
// 3.2.7) and builds its codes.
func (f *inflater) dynamic() error {
	var v [3]int
	for i, n := range []uint{5, 5, 4} {
		x, err := f.getBits(n)
		if err != nil {
			return err
		}
		v[i] = x
	}
	nlen, ndist, ncode := v[0]+257, v[1]+1, v[2]+4
	if nlen > 286 || ndist > 30 {
		return errCorrupt
	}
	var lengths [286 + 30]uint8
	for i := range ncode {
		x, err := f.getBits(3)
		if err != nil {
			return err
		}
		lengths[clOrder[i]] = uint8(x)
	}
	var cl huffman
	if cl.build(lengths[:19]) != 0 {
		return errCorrupt // the code-length code must be complete
	}
	clear(lengths[:19])
	for i := 0; i < nlen+ndist; {
		sym, err := f.decode(&cl)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var l uint8
		var rep int
		switch sym {
		case 16:
			if i == 0 {
				return errCorrupt
			}
			l = lengths[i-1]
			rep, err = f.getBits(2)
			rep += 3
		case 17:
			rep, err = f.getBits(3)
			rep += 3
		default:
			rep, err = f.getBits(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+rep > nlen+ndist {
			return errCorrupt
		}
		for range rep {
			lengths[i] = l
			i++
		}
	}
	if lengths[256] == 0 {
		return errCorrupt // no end-of-block code
	}
	// An incomplete code is allowed only as a single code of length 1.
	if left := f.lit.build(lengths[:nlen]); left < 0 || left > 0 && nlen != int(f.lit.count[0]+f.lit.count[1]) {
		return errCorrupt
	}
	if left := f.dist.build(lengths[nlen : nlen+ndist]); left < 0 || left > 0 && ndist != int(f.dist.count[0]+f.dist.count[1]) {
		return errCorrupt
	}
	return nil
}
