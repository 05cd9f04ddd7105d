//! The stored Merkle tree over the log (`merkle_nodes`, `merkle_tree`):
//! growing it from the events' hashes, and reading roots and proofs from it
//! in O(log n) node reads. The math is in `merkle`.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::merkle::{self, Hash, LeafRange, NodeId};

/// Nodes of one level per `merkle_nodes` row.
const CHUNK: u64 = 256;
/// Most leaves added to the tree in one transaction.
const GROW_BATCH: u64 = 50_000;

/// Why the tree could not be grown or read.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// The log is missing positions it must have (positions are dense).
    #[error("the log has {found} events in positions {from}..={to}, not {expected}")]
    Gap {
        /// First position read.
        from: u64,
        /// Last position read.
        to: u64,
        /// Events expected.
        expected: u64,
        /// Events found.
        found: u64,
    },
    /// A node the tree must hold is not stored.
    #[error("the stored tree lacks node {0:?}")]
    MissingNode(NodeId),
    /// A stored hash that is not 32 bytes.
    #[error("a stored hash of {0} bytes")]
    BadHash(usize),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// The log's id, made with the database.
///
/// # Errors
/// The database failed.
pub async fn log_id(pool: &PgPool) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar("SELECT log_id FROM log_identity")
        .fetch_one(pool)
        .await
}

/// The origin of a log's checkpoints when none is configured.
pub fn default_origin(log_id: Uuid) -> String {
    format!("run-ledger/{log_id}")
}

/// Leaves the stored tree holds.
///
/// # Errors
/// The database failed.
pub async fn tree_size<'c>(executor: impl sqlx::PgExecutor<'c>) -> Result<u64, sqlx::Error> {
    let size: i64 = sqlx::query_scalar("SELECT size FROM merkle_tree")
        .fetch_one(executor)
        .await?;
    Ok(size as u64)
}

fn to_hash(bytes: &[u8]) -> Result<Hash, TreeError> {
    Hash::try_from(bytes).map_err(|_| TreeError::BadHash(bytes.len()))
}

/// The stored hashes of `nodes`.
///
/// # Errors
/// The database failed, or a node is not stored.
pub async fn read_nodes(
    conn: &mut PgConnection,
    nodes: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, TreeError> {
    if nodes.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(
        "SELECT wanted.level, wanted.index,
                substring(m.hashes FROM ((wanted.index % 256) * 32 + 1)::int FOR 32) AS hash
         FROM UNNEST($1::smallint[], $2::bigint[]) AS wanted (level, index)
         JOIN merkle_nodes m ON m.level = wanted.level AND m.chunk = wanted.index / 256",
    )
    .bind(nodes.iter().map(|n| i16::from(n.level)).collect::<Vec<_>>())
    .bind(nodes.iter().map(|n| n.index as i64).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let node = NodeId {
            level: row.try_get::<i16, _>("level")? as u8,
            index: row.try_get::<i64, _>("index")? as u64,
        };
        let hash: Vec<u8> = row.try_get("hash")?;
        found.insert(node, to_hash(&hash)?);
    }
    match nodes.iter().find(|node| !found.contains_key(node)) {
        Some(missing) => Err(TreeError::MissingNode(*missing)),
        None => Ok(found),
    }
}

/// The roots of `ranges`, all within the stored tree.
///
/// # Errors
/// The database failed, or the tree is smaller than a range needs.
pub async fn range_roots(
    conn: &mut PgConnection,
    ranges: &[LeafRange],
) -> Result<Vec<Hash>, TreeError> {
    let pieces: Vec<Vec<NodeId>> = ranges
        .iter()
        .map(|range| merkle::complete_subtrees(*range))
        .collect();
    let all: Vec<NodeId> = pieces.iter().flatten().copied().collect();
    let nodes = read_nodes(conn, &all).await?;
    Ok(pieces
        .iter()
        .map(|range| {
            let hashes: Vec<Hash> = range.iter().map(|node| nodes[node]).collect();
            merkle::range_root(&hashes)
        })
        .collect())
}

/// The root of the tree's first `size` leaves.
///
/// # Errors
/// As `range_roots`.
pub async fn root(conn: &mut PgConnection, size: u64) -> Result<Hash, TreeError> {
    if size == 0 {
        return Ok(merkle::EMPTY_ROOT);
    }
    Ok(range_roots(conn, &[(0, size)]).await?[0])
}

/// The inclusion path of leaf `index` in the tree of `size` leaves.
///
/// # Errors
/// As `range_roots`.
pub async fn inclusion_path(
    conn: &mut PgConnection,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError> {
    range_roots(conn, &merkle::inclusion_ranges(index, size)).await
}

/// The consistency path from the tree of `old` leaves to that of `new`.
///
/// # Errors
/// As `range_roots`.
pub async fn consistency_path(
    conn: &mut PgConnection,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, TreeError> {
    range_roots(conn, &merkle::consistency_ranges(old, new)).await
}

/// Adds the events up to position `target` to the stored tree, at most
/// `GROW_BATCH` in a transaction, each batch costing its own events and
/// O(log n) node reads. Concurrent growers wait for each other on the
/// `merkle_tree` row. Returns the tree's size.
///
/// # Errors
/// The database failed, or the log has a gap; batches committed before stay.
pub async fn grow(pool: &PgPool, target: u64) -> Result<u64, TreeError> {
    loop {
        let mut tx = pool.begin().await?;
        let size: i64 = sqlx::query_scalar("SELECT size FROM merkle_tree FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
        let size = size as u64;
        if size >= target {
            return Ok(size);
        }
        let to = target.min(size + GROW_BATCH);
        let hashes: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT hash FROM events WHERE global_position > $1 AND global_position <= $2
             ORDER BY global_position",
        )
        .bind(size as i64)
        .bind(to as i64)
        .fetch_all(&mut *tx)
        .await?;
        if hashes.len() as u64 != to - size {
            return Err(TreeError::Gap {
                from: size + 1,
                to,
                expected: to - size,
                found: hashes.len() as u64,
            });
        }
        let leaves: Vec<Hash> = hashes.iter().map(|hash| merkle::leaf_hash(hash)).collect();
        let edge = merkle::frontier(size);
        let stored = read_nodes(&mut tx, &edge).await?;
        let edge_hashes: Vec<Hash> = edge.iter().map(|node| stored[node]).collect();
        let grown = merkle::grow(size, &edge_hashes, &leaves);
        store_nodes(&mut tx, &grown).await?;
        sqlx::query("UPDATE merkle_tree SET size = $1")
            .bind(to as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        metrics::gauge!("ledger_merkle_tree_size").set(to as f64);
    }
}

/// Appends grown nodes (in level, then index order, each level contiguous)
/// to their rows.
async fn store_nodes(conn: &mut PgConnection, grown: &[(NodeId, Hash)]) -> Result<(), TreeError> {
    let mut rows: Vec<(i16, i64, Vec<u8>)> = Vec::new();
    for (node, hash) in grown {
        let (level, chunk) = (i16::from(node.level), (node.index / CHUNK) as i64);
        match rows.last_mut() {
            Some((l, c, bytes)) if *l == level && *c == chunk => bytes.extend_from_slice(hash),
            _ => rows.push((level, chunk, hash.to_vec())),
        }
    }
    let (levels, rest): (Vec<i16>, Vec<(i64, Vec<u8>)>) =
        rows.into_iter().map(|(l, c, b)| (l, (c, b))).unzip();
    let (chunks, bytes): (Vec<i64>, Vec<Vec<u8>>) = rest.into_iter().unzip();
    sqlx::query(
        "INSERT INTO merkle_nodes (level, chunk, hashes)
         SELECT * FROM UNNEST($1::smallint[], $2::bigint[], $3::bytea[])
         ON CONFLICT (level, chunk) DO UPDATE SET hashes = merkle_nodes.hashes || EXCLUDED.hashes",
    )
    .bind(levels)
    .bind(chunks)
    .bind(bytes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The stored leaves for positions `from..=to` (leaf `position - 1`), as far
/// as the tree holds them.
///
/// # Errors
/// The database failed.
pub async fn stored_leaves(
    pool: &PgPool,
    from: u64,
    to: u64,
) -> Result<HashMap<u64, Hash>, TreeError> {
    let rows = sqlx::query(
        "SELECT chunk, hashes FROM merkle_nodes
         WHERE level = 0 AND chunk BETWEEN $1 AND $2 ORDER BY chunk",
    )
    .bind(((from.max(1) - 1) / CHUNK) as i64)
    .bind(((to.max(1) - 1) / CHUNK) as i64)
    .fetch_all(pool)
    .await?;
    let mut leaves = HashMap::new();
    for row in rows {
        let chunk = row.try_get::<i64, _>("chunk")? as u64;
        let hashes: Vec<u8> = row.try_get("hashes")?;
        for (offset, hash) in hashes.chunks(32).enumerate() {
            let position = chunk * CHUNK + offset as u64 + 1;
            if (from..=to).contains(&position) {
                leaves.insert(position, to_hash(hash)?);
            }
        }
    }
    Ok(leaves)
}
