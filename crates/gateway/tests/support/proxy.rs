//! A TCP proxy that forwards ZooKeeper frames unchanged and records each
//! one, per connection and direction.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ToServer,
    ToClient,
}

type Connection = Arc<Mutex<Vec<(Direction, Vec<u8>)>>>;

pub struct RecordingProxy {
    address: String,
    connections: Arc<Mutex<Vec<Connection>>>,
}

impl RecordingProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: &str) -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let connections: Arc<Mutex<Vec<Connection>>> = Arc::default();
        let all = connections.clone();
        let upstream = upstream.to_string();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let frames = Connection::default();
                all.lock().unwrap().push(frames.clone());
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(
                    client_read,
                    server_write,
                    Direction::ToServer,
                    frames.clone(),
                ));
                tokio::spawn(pipe(server_read, client_write, Direction::ToClient, frames));
            }
        });
        RecordingProxy {
            address,
            connections,
        }
    }

    pub fn address(&self) -> String {
        self.address.clone()
    }

    /// Every connection's frames so far, in the order they passed.
    pub fn connections(&self) -> Vec<Vec<(Direction, Vec<u8>)>> {
        self.connections
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.lock().unwrap().clone())
            .collect()
    }
}

async fn pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    direction: Direction,
    frames: Connection,
) {
    loop {
        let mut len = [0; 4];
        if from.read_exact(&mut len).await.is_err() {
            break;
        }
        let mut frame = vec![0; u32::from_be_bytes(len) as usize];
        if from.read_exact(&mut frame).await.is_err() {
            break;
        }
        // Recorded before it is forwarded: the answer cannot overtake it.
        frames.lock().unwrap().push((direction, frame.clone()));
        if to.write_all(&len).await.is_err() || to.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
