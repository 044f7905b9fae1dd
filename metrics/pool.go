package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/models"
)

// dbCollector reads the pool of a bun DB at scrape time: pgxpool's Stat
// for a PostgreSQL DB opened by models.Open, database/sql's Stats
// otherwise (SQLite).
type dbCollector struct {
	db    *bun.DB
	descs [8]*prometheus.Desc
}

const (
	dbAcquired = iota
	dbIdle
	dbTotal
	dbMax
	dbAcquires
	dbWaits
	dbWaitSeconds
	dbCanceled
)

// NewDBCollector returns a collector of the connection pool of db,
// labelled db=name. Register it on the registry the metrics handler
// serves. Reading the pool takes a lock of the pool for a moment per
// scrape, nothing per request.
func NewDBCollector(name string, db *bun.DB) prometheus.Collector {
	l := prometheus.Labels{"db": name}
	d := func(n, help string) *prometheus.Desc {
		return prometheus.NewDesc("cosworth_db_pool_"+n, help, nil, l)
	}
	return &dbCollector{db: db, descs: [...]*prometheus.Desc{
		dbAcquired:    d("acquired_conns", "Connections in use."),
		dbIdle:        d("idle_conns", "Idle connections."),
		dbTotal:       d("total_conns", "Open connections."),
		dbMax:         d("max_conns", "The pool's bound on open connections."),
		dbAcquires:    d("acquires_total", "Connections taken from the pool."),
		dbWaits:       d("waits_total", "Acquires that had to wait for a connection."),
		dbWaitSeconds: d("wait_seconds_total", "Time spent waiting for a connection."),
		dbCanceled:    d("canceled_acquires_total", "Acquires abandoned because their context ended (PostgreSQL only)."),
	}}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	g := func(i int, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[i], prometheus.GaugeValue, v) }
	n := func(i int, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[i], prometheus.CounterValue, v) }
	if p := models.Pool(c.db); p != nil {
		s := p.Stat()
		g(dbAcquired, float64(s.AcquiredConns()))
		g(dbIdle, float64(s.IdleConns()))
		g(dbTotal, float64(s.TotalConns()))
		g(dbMax, float64(s.MaxConns()))
		n(dbAcquires, float64(s.AcquireCount()))
		n(dbWaits, float64(s.EmptyAcquireCount()))
		n(dbWaitSeconds, s.EmptyAcquireWaitTime().Seconds())
		n(dbCanceled, float64(s.CanceledAcquireCount()))
		return
	}
	s := c.db.Stats()
	g(dbAcquired, float64(s.InUse))
	g(dbIdle, float64(s.Idle))
	g(dbTotal, float64(s.OpenConnections))
	g(dbMax, float64(s.MaxOpenConnections))
	n(dbWaits, float64(s.WaitCount))
	n(dbWaitSeconds, s.WaitDuration.Seconds())
}

// PoolStatser is a go-redis client: *redis.Client, *redis.ClusterClient
// and *redis.Ring all have PoolStats.
type PoolStatser interface {
	PoolStats() *redis.PoolStats
}

type redisCollector struct {
	c     PoolStatser
	descs [6]*prometheus.Desc
}

// NewRedisCollector returns a collector of the connection pool of a
// go-redis client, labelled redis=name, read at scrape time.
func NewRedisCollector(name string, c PoolStatser) prometheus.Collector {
	l := prometheus.Labels{"redis": name}
	d := func(n, help string) *prometheus.Desc {
		return prometheus.NewDesc("cosworth_redis_pool_"+n, help, nil, l)
	}
	return &redisCollector{c: c, descs: [...]*prometheus.Desc{
		d("hits_total", "Connections found idle in the pool."),
		d("misses_total", "Connections the pool had to open."),
		d("timeouts_total", "Waits for a connection that timed out."),
		d("total_conns", "Open connections."),
		d("idle_conns", "Idle connections."),
		d("stale_conns_total", "Stale connections removed from the pool."),
	}}
}

func (c *redisCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *redisCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.c.PoolStats()
	for i, v := range [...]struct {
		t prometheus.ValueType
		v uint32
	}{
		{prometheus.CounterValue, s.Hits},
		{prometheus.CounterValue, s.Misses},
		{prometheus.CounterValue, s.Timeouts},
		{prometheus.GaugeValue, s.TotalConns},
		{prometheus.GaugeValue, s.IdleConns},
		{prometheus.CounterValue, s.StaleConns},
	} {
		ch <- prometheus.MustNewConstMetric(c.descs[i], v.t, float64(v.v))
	}
}
