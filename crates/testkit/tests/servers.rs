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
    assert!(first.url.starts_with("redis://127.0.0.1:"));
}
