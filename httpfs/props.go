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

// maxDeadProps bounds the properties one resource may hold.
const maxDeadProps = 256

type userProps struct {
	mu sync.Mutex
	m  map[string]map[xml.Name]webdav.Property // path -> properties
}

func (u *userProps) get(name string) map[xml.Name]webdav.Property {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.m[name])
}

func (u *userProps) patch(name string, patches []webdav.Proppatch) []webdav.Propstat {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.m[name]
	if m == nil {
		m = map[xml.Name]webdav.Property{}
	}
	ok := webdav.Propstat{Status: http.StatusOK}
	for _, p := range patches {
		for _, prop := range p.Props {
			if p.Remove {
				delete(m, prop.XMLName)
			} else if len(m) < maxDeadProps {
				m[prop.XMLName] = prop
			} else {
				return []webdav.Propstat{{Status: http.StatusInsufficientStorage, Props: p.Props}}
			}
			ok.Props = append(ok.Props, webdav.Property{XMLName: prop.XMLName})
		}
	}
	u.m[name] = m
	return []webdav.Propstat{ok}
}

// remove forgets the properties of name and everything under it.
func (u *userProps) remove(name string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k := range u.m {
		if k == name || strings.HasPrefix(k, strings.TrimSuffix(name, "/")+"/") {
			delete(u.m, k)
		}
	}
}

// rename moves the properties of from and everything under it to to.
func (u *userProps) rename(from, to string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k := range u.m {
		if strings.HasPrefix(k, strings.TrimSuffix(to, "/")+"/") || k == to {
			delete(u.m, k)
		}
	}
	for k, v := range u.m {
		switch {
		case k == from:
			delete(u.m, k)
			u.m[to] = v
		case strings.HasPrefix(k, from+"/"):
			delete(u.m, k)
			u.m[to+k[len(from):]] = v
		}
	}
}
