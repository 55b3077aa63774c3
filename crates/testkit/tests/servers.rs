//! The servers start once per process and answer.

#[test]
fn moto_starts_once_and_answers() {
    let first = fk_testkit::moto();
    let second = fk_testkit::moto();
    assert!(std::ptr::eq(first, second));
    assert!(first.endpoint.starts_with("http://127.0.0.1:"));
}

#[test]
fn redis_starts_once_and_answers() {
    let first = fk_testkit::redis();
    assert!(std::ptr::eq(first, fk_testkit::redis()));
    // redis://user:password@127.0.0.1:port, one user per role.
    for url in [&first.url, &first.write_url, &first.read_url] {
        let (scheme, rest) = url.split_once("://").unwrap();
        assert_eq!(scheme, "redis");
        assert!(rest.contains("@127.0.0.1:"), "{url}");
    }
    assert_ne!(first.read_url, first.write_url);
}

#[test]
fn zookeeper_starts_once_and_answers() {
    use std::io::{Read, Write};
    let first = fk_testkit::zookeeper();
    assert!(std::ptr::eq(first, fk_testkit::zookeeper()));
    assert!(first.connect.starts_with("127.0.0.1:"));
    let mut stream = std::net::TcpStream::connect(&first.connect).unwrap();
    stream.write_all(b"srvr").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.contains("Zookeeper version: 3."), "{reply}");
}
