//! Who listens on a local port: whether a port can still be bound here, and which process
//! holds it (from `/proc`, on Linux; none elsewhere or when its owner is not ours to see).

use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};

/// Whether `port` over `protocol` (`tcp`, `udp`) at `address` (none: every interface) is
/// taken on this machine: binding it fails because something else holds it.
pub fn is_taken(address: Option<IpAddr>, port: u16, protocol: &str) -> bool {
    let address = address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let in_use = |error: std::io::Error| error.kind() == std::io::ErrorKind::AddrInUse;
    match protocol {
        "udp" => UdpSocket::bind((address, port)).err().is_some_and(in_use),
        _ => TcpListener::bind((address, port)).err().is_some_and(in_use),
    }
}

/// The process listening on TCP `port` (any address), as `name (pid N)`, when `/proc`
/// shows it.
pub fn tcp_owner(port: u16) -> Option<String> {
    let inode = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .find_map(|text| listening_inode(&text, port))?;
    let wanted = format!("socket:[{inode}]");
    for process in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = process.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(descriptors) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let holds = descriptors.flatten().any(|descriptor| {
            std::fs::read_link(descriptor.path())
                .is_ok_and(|target| target.to_string_lossy() == wanted)
        });
        if holds {
            let name = std::fs::read_to_string(process.path().join("comm")).unwrap_or_default();
            return Some(format!("{} (pid {pid})", name.trim()));
        }
    }
    None
}

/// The inode of the socket listening on `port` in a `/proc/net/tcp` table.
fn listening_inode(table: &str, port: u16) -> Option<String> {
    const LISTEN: &str = "0A";
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local = fields.get(1)?;
        let (_, hex_port) = local.rsplit_once(':')?;
        let listening = fields.get(3) == Some(&LISTEN);
        (listening && u16::from_str_radix(hex_port, 16).ok()? == port)
            .then(|| fields.get(9).map(|inode| inode.to_string()))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_this_process_listens_on_is_taken_and_its_owner_found() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(is_taken(Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), port, "tcp"));
        let owner = tcp_owner(port).unwrap();
        assert!(
            owner.ends_with(&format!("(pid {})", std::process::id())),
            "{owner}"
        );
        drop(listener);
        assert!(!is_taken(
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port,
            "tcp"
        ));
    }

    #[test]
    fn the_table_is_read_for_listening_sockets_only() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1\n   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1\n";
        assert_eq!(listening_inode(table, 8080).as_deref(), Some("4242"));
        assert_eq!(listening_inode(table, 8081), None);
    }
}
