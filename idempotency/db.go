package idempotency

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// DBStore is a Store in a table of the service's database (PostgreSQL or
// SQLite), cosworth_idempotency, created on first use. It is a TxStore:
// behind a generic view of package views, the answer is written by the
// transaction that creates the row, so the row and its record commit
// together or not at all, and a retry after any crash either finds the
// record or runs the request afresh.
//
// The table is bounded in time and size: expired records (answers older
// than Retention, claims older than LockTimeout) are deleted in batches at
// most once per PruneInterval, by the request that finds the time come;
// when MaxEntries records are live, new keys are refused with 503 (fail
// closed) until pruning makes room. Instances compare times by their own
// clocks, so keep them synchronised.
type DBStore struct {
	// DB is the database holding the table; use the DB of the views the
	// middleware wraps, so their transactions can write the record.
	DB *bun.DB
	// Retention is how long an answer is kept; 0 means 24 hours.
	Retention time.Duration
	// LockTimeout is how long a running request holds its key; it must
	// outlast the request (a view's Timeout, 10 s by default). 0 means
	// one minute.
	LockTimeout time.Duration
	// MaxEntries bounds the records kept; 0 means 100,000.
	MaxEntries int
	// PruneInterval is the least time between two prunings; 0 means one
	// minute.
	PruneInterval time.Duration
	// Timeout bounds Begin (with its pruning), Finish and Release, so a
	// database that stops answering yields a fast 503 rather than a
	// request held until its deadline; 0 means 2 s. FinishTx runs under
	// the handler's context.
	Timeout time.Duration

	once      sync.Once
	mu        sync.Mutex
	ready     atomic.Bool
	nextPrune atomic.Int64 // unix ms
	full      atomic.Bool
}

var _ TxStore = (*DBStore)(nil)

// pruneBatch bounds the rows one pruning deletes.
const pruneBatch = 1000

// dbEntry is a row of the table.
type dbEntry struct {
	bun.BaseModel `bun:"table:cosworth_idempotency"`

	ID          string `bun:"id,pk,type:varchar(64)"`
	Token       string `bun:"token,notnull"`
	Principal   string `bun:"principal,notnull"`
	Key         string `bun:"idem_key,notnull"`
	BodyHash    string `bun:"body_hash,notnull"`
	Done        bool   `bun:"done,notnull"`
	Status      int    `bun:"status,notnull"`
	ContentType string `bun:"content_type,notnull"`
	Body        []byte `bun:"body"`
	ExpiresAt   int64  `bun:"expires_at,notnull"` // unix ms
}

func (s *DBStore) setup() {
	s.once.Do(func() {
		if s.DB == nil {
			panic("cosworth/idempotency: DBStore needs a DB")
		}
		if s.Retention <= 0 {
			s.Retention = 24 * time.Hour
		}
		if s.LockTimeout <= 0 {
			s.LockTimeout = time.Minute
		}
		if s.MaxEntries <= 0 {
			s.MaxEntries = 100_000
		}
		if s.PruneInterval <= 0 {
			s.PruneInterval = time.Minute
		}
		if s.Timeout <= 0 {
			s.Timeout = 2 * time.Second
		}
	})
}

// CreateTable creates the table and its index if they do not exist. The
// store calls it on first use; call it at start-up to fail early.
func (s *DBStore) CreateTable(ctx context.Context) error {
	s.setup()
	if s.ready.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready.Load() {
		return nil
	}
	if _, err := s.DB.NewCreateTable().Model((*dbEntry)(nil)).IfNotExists().Exec(ctx); err != nil {
		return err
	}
	if _, err := s.DB.NewCreateIndex().Model((*dbEntry)(nil)).Index("cosworth_idempotency_expires_at").
		Column("expires_at").IfNotExists().Exec(ctx); err != nil {
		return err
	}
	s.ready.Store(true)
	return nil
}

// Begin implements Store.
func (s *DBStore) Begin(ctx context.Context, id, token string, rec *Record) (*Record, error) {
	s.setup()
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	if err := s.CreateTable(ctx); err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	if next := s.nextPrune.Load(); now >= next && s.nextPrune.CompareAndSwap(next, now+s.PruneInterval.Milliseconds()) {
		if err := s.Prune(ctx); err != nil {
			s.nextPrune.Store(0) // the next request tries again
			return nil, err
		}
	}
	e := &dbEntry{ID: id, Token: token, Principal: rec.Principal, Key: rec.Key, BodyHash: rec.BodyHash,
		ExpiresAt: now + s.LockTimeout.Milliseconds()}
	// A record that expires or appears between the read and the write is
	// handled on the next round; three rounds bound the loop.
	for range 3 {
		var old dbEntry
		err := s.DB.NewSelect().Model(&old).Where("id = ?", id).Limit(1).Scan(ctx)
		var res sql.Result
		switch {
		case err == nil && old.ExpiresAt > now:
			return old.record(), nil
		case s.full.Load():
			// Repeats are still answered; new keys wait for room.
			return nil, ErrFull
		case err == nil:
			// Expired: take the key over, unless another request did.
			res, err = s.DB.NewUpdate().Model(e).WherePK().Where("expires_at <= ?", now).Exec(ctx)
		case errors.Is(err, sql.ErrNoRows):
			res, err = s.DB.NewInsert().Model(e).On("CONFLICT DO NOTHING").Exec(ctx)
		}
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return nil, err
		}
	}
	return nil, errors.New("cosworth/idempotency: key kept changing under Begin")
}

// Finish implements Store.
func (s *DBStore) Finish(ctx context.Context, id, token string, rec *Record) error {
	s.setup()
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	return s.FinishTx(ctx, s.DB, id, token, rec)
}

// FinishTx implements TxStore: it stores the answer through db (the
// handler's transaction) if token still holds id's running claim. It
// returns ErrOtherDB, writing nothing, when db is a transaction of another
// *bun.DB than the store's.
func (s *DBStore) FinishTx(ctx context.Context, db bun.IDB, id, token string, rec *Record) error {
	s.setup()
	if tx, ok := db.(bun.Tx); ok && tx.NewSelect().DB() != s.DB {
		return ErrOtherDB
	}
	res, err := db.NewUpdate().Model((*dbEntry)(nil)).
		Set("done = ?", true).
		Set("status = ?", rec.Status).
		Set("content_type = ?", rec.ContentType).
		Set("body = ?", rec.Body).
		Set("expires_at = ?", time.Now().Add(s.Retention).UnixMilli()).
		Where("id = ?", id).Where("token = ?", token).Where("done = ?", false).
		Exec(ctx)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err == nil {
			err = ErrLost
		}
		return err
	}
	return nil
}

// Release implements Store.
func (s *DBStore) Release(ctx context.Context, id, token string) error {
	s.setup()
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	_, err := s.DB.NewDelete().Model((*dbEntry)(nil)).
		Where("id = ?", id).Where("token = ?", token).Where("done = ?", false).
		Exec(ctx)
	return err
}

// Prune deletes up to 1000 expired records, then checks whether the
// table holds MaxEntries live ones (new keys are refused while it does).
// Begin calls it at most once per PruneInterval; call it from a job to
// prune on a schedule of your own.
func (s *DBStore) Prune(ctx context.Context) error {
	if err := s.CreateTable(ctx); err != nil {
		return err
	}
	expired := s.DB.NewSelect().Model((*dbEntry)(nil)).Column("id").
		Where("expires_at <= ?", time.Now().UnixMilli()).Limit(pruneBatch)
	if _, err := s.DB.NewDelete().Model((*dbEntry)(nil)).Where("id IN (?)", expired).Exec(ctx); err != nil {
		return err
	}
	// Count at most MaxEntries rows, however large the table grew.
	var n int
	if err := s.DB.NewRaw("SELECT count(*) FROM (SELECT 1 FROM cosworth_idempotency LIMIT ?) AS t", s.MaxEntries).
		Scan(ctx, &n); err != nil {
		return err
	}
	s.full.Store(n >= s.MaxEntries)
	return nil
}

func (e *dbEntry) record() *Record {
	return &Record{Principal: e.Principal, Key: e.Key, BodyHash: e.BodyHash, Done: e.Done,
		Status: e.Status, ContentType: e.ContentType, Body: e.Body}
}
