//! TCP_NODELAY on the database connections.
//!
//! sqlx 0.9.0 stopped setting TCP_NODELAY on its sockets (upstream issue #4335; the fix is
//! merged but not released as of December 2026), and it gives no access to the socket.
//! Without it, Nagle's algorithm holds the last small segment of a message until the
//! server's delayed ACK (40 ms on Linux) whenever a message is sent in more than one write,
//! as a COPY always is. On the full-sync benchmark that cost ~5 s over 127.0.0.1 (13.2 s
//! over TCP against 8.2 s over the Unix socket). So each new pooled connection finds its own
//! socket among the process's descriptors (a TCP socket whose peer is the database port)
//! and sets the option. Once sqlx sets it again, this finds nothing left to change.
// The socket calls exist only in libc; each unsafe block states its SAFETY argument.
#![allow(unsafe_code)]

/// Set TCP_NODELAY on this process's TCP sockets connected to `port` that lack it. Returns
/// how many were changed. Best effort: a descriptor that vanishes meanwhile is skipped.
#[cfg(target_os = "linux")]
pub(crate) fn set_on_sockets_to(port: u16) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let mut changed = 0;
    for entry in dir.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"));
        if !is_socket || !is_tcp(fd) || peer_port(fd) != Some(port) || nodelay(fd) != Some(false) {
            continue;
        }
        let one: libc::c_int = 1;
        // SAFETY: `fd` is an open socket of this process (checked just above; if it was closed
        // and reused meanwhile, setsockopt fails or sets a harmless option on another socket),
        // and the option value points to a live c_int of the given size.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            changed += 1;
        }
    }
    changed
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn set_on_sockets_to(_port: u16) -> usize {
    0
}

#[cfg(target_os = "linux")]
fn int_option(fd: i32, level: libc::c_int, name: libc::c_int) -> Option<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` are live locals of the sizes passed; a bad fd only makes the
    // call fail.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(v)
}

#[cfg(target_os = "linux")]
fn is_tcp(fd: i32) -> bool {
    int_option(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL) == Some(libc::IPPROTO_TCP)
}

#[cfg(target_os = "linux")]
fn nodelay(fd: i32) -> Option<bool> {
    int_option(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY).map(|v| v != 0)
}

#[cfg(target_os = "linux")]
fn peer_port(fd: i32) -> Option<u16> {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `ss` is large enough for any address family and `len` says so.
    let rc = unsafe {
        libc::getpeername(
            fd,
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    match libc::c_int::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a = unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(u16::from_be(a.sin_port))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a =
                unsafe { &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(u16::from_be(a.sin6_port))
        }
        _ => None,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn sets_nodelay_only_on_sockets_to_the_port() {
        let db = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let to_db = std::net::TcpStream::connect(db.local_addr().unwrap()).unwrap();
        let to_other = std::net::TcpStream::connect(other.local_addr().unwrap()).unwrap();
        assert!(
            !to_db.nodelay().unwrap(),
            "a new socket starts with Nagle on"
        );
        assert!(set_on_sockets_to(db.local_addr().unwrap().port()) >= 1);
        assert!(
            to_db.nodelay().unwrap(),
            "the database socket gets TCP_NODELAY"
        );
        assert!(!to_other.nodelay().unwrap(), "other sockets are left alone");
        assert_eq!(
            set_on_sockets_to(db.local_addr().unwrap().port()),
            0,
            "idempotent"
        );
    }
}
