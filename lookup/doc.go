// Package lookup answers the socket layer's naming questions the way the
// C library does, so that plumb agrees with every other program on the
// machine:
//
//   - services: a service name to its port and back, per transport
//     protocol, from the system's services(5) table ([ParseServices],
//     [DefaultServices]), falling back to a built-in table that lists
//     every service plumb serves and the common others ([Embedded]);
//   - hosts: a host name to its canonical name, aliases and addresses
//     (what gethostbyname_ex(3) gives) and an address to its names (what
//     gethostbyaddr(3) gives), from the hosts(5) table and then DNS
//     ([Resolver.Host], [Resolver.Reverse]);
//   - address information: each address of a host with the family,
//     socket type and protocol to reach a service there (what
//     getaddrinfo(3) gives), in RFC 6724 order ([Resolver.AddrInfo],
//     [SortAddrs]).
//
// Standards: RFC 952 and RFC 1123 section 2.1 (host names and the hosts
// table), RFC 1034 and RFC 1035 (DNS, CNAME and PTR records), RFC 3493
// (getaddrinfo and the basic socket interface for IPv6), RFC 6335 (the
// service name and port number registry) and RFC 6724 (default address
// selection for IPv6).
//
// Deliberate differences from glibc: a name or an address repeated in
// the hosts table is reported once; an IPv6 line in the hosts table is
// not rewritten to 127.0.0.1 for IPv4 lookups; a numeric service over
// 65535 is an error instead of being truncated; [Resolver.Host] reports
// IPv6 addresses beside the IPv4 ones gethostbyname_ex(3) is limited to.
//
// Both tables are read with limits ([MaxFileSize], [MaxLineLength],
// [MaxNames]); a file over them is refused with a [*ParseError] rather
// than used in part. Malformed lines are skipped, as the C library skips
// them.
package lookup
