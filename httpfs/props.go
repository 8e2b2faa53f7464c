package httpfs

import (
	"encoding/xml"
	"maps"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/net/webdav"
)

// deadProps keeps WebDAV's dead properties (PROPPATCH) per user and
// path, in memory: they last as long as the server process.
type deadProps struct {
	mu    sync.Mutex
	users map[string]*userProps
}

func newDeadProps() *deadProps { return &deadProps{users: map[string]*userProps{}} }

func (d *deadProps) of(user string) *userProps {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[user]
	if !ok {
		u = &userProps{m: map[string]map[xml.Name]webdav.Property{}}
		d.users[user] = u
	}
	return u
}

// maxDeadProps bounds the properties one resource may hold, and
// maxDeadPropBytes the bytes of all one user's properties (names,
// values and deadPropCost for each), since they are kept in memory.
const (
	maxDeadProps     = 256
	maxDeadPropBytes = 4 << 20
	deadPropCost     = 64
)

type userProps struct {
	mu    sync.Mutex
	m     map[string]map[xml.Name]webdav.Property // path -> properties
	bytes int64                                   // what all of m costs
}

func propSize(p webdav.Property) int64 {
	return int64(len(p.XMLName.Space) + len(p.XMLName.Local) + len(p.Lang) + len(p.InnerXML) + deadPropCost)
}

func propsSize(m map[xml.Name]webdav.Property) int64 {
	var n int64
	for _, p := range m {
		n += propSize(p)
	}
	return n
}

func (u *userProps) get(name string) map[xml.Name]webdav.Property {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.m[name])
}

// patch applies patches to name's properties all or none (RFC 4918
// 9.2): over a limit nothing changes and the answer is 507.
func (u *userProps) patch(name string, patches []webdav.Proppatch) []webdav.Propstat {
	u.mu.Lock()
	defer u.mu.Unlock()
	old := u.m[name]
	m := maps.Clone(old)
	if m == nil {
		m = map[xml.Name]webdav.Property{}
	}
	ok := webdav.Propstat{Status: http.StatusOK}
	for _, p := range patches {
		for _, prop := range p.Props {
			if p.Remove {
				delete(m, prop.XMLName)
			} else {
				m[prop.XMLName] = prop
			}
			ok.Props = append(ok.Props, webdav.Property{XMLName: prop.XMLName})
		}
	}
	total := u.bytes - propsSize(old) + propsSize(m)
	if len(m) > maxDeadProps || total > maxDeadPropBytes {
		var names []webdav.Property
		for _, p := range patches {
			names = append(names, p.Props...)
		}
		return []webdav.Propstat{{Status: http.StatusInsufficientStorage, Props: names,
			ResponseDescription: "over the server's limit of dead properties"}}
	}
	if len(m) == 0 {
		delete(u.m, name)
	} else {
		u.m[name] = m
	}
	u.bytes = total
	return []webdav.Propstat{ok}
}

// remove forgets the properties of name and everything under it.
func (u *userProps) remove(name string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.removeLocked(name)
}

func (u *userProps) removeLocked(name string) {
	under := strings.TrimSuffix(name, "/") + "/"
	for k, v := range u.m {
		if k == name || strings.HasPrefix(k, under) {
			u.bytes -= propsSize(v)
			delete(u.m, k)
		}
	}
}

// rename moves the properties of from and everything under it to to.
func (u *userProps) rename(from, to string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.removeLocked(to) // what the destination held is gone
	moved := map[string]map[xml.Name]webdav.Property{}
	for k, v := range u.m {
		if k == from || strings.HasPrefix(k, from+"/") {
			delete(u.m, k)
			moved[to+k[len(from):]] = v
		}
	}
	maps.Copy(u.m, moved)
}
