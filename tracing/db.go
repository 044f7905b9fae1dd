package tracing

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// PgxTracer is a pgx tracer (pgx.QueryTracer and pgx.BatchTracer) that
// starts a client span per query and per batch. Install it with
// models.Open(ctx, dsn, models.WithTracer(&tracing.PgxTracer{})): it sees
// every query of the pool, those bun sends through database/sql and those
// the views' pgx fast path (internal/pgread) sends directly, so on
// PostgreSQL it is the one to use (with QueryHook as well, bun's queries
// get two nested spans).
type PgxTracer struct {
	// TracerProvider provides the tracer; nil means the global one.
	TracerProvider trace.TracerProvider
}

var (
	_ pgx.QueryTracer = (*PgxTracer)(nil)
	_ pgx.BatchTracer = (*PgxTracer)(nil)
)

var postgres = attribute.String("db.system.name", "postgresql")

// TraceQueryStart implements pgx.QueryTracer.
func (t *PgxTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	op := operation(data.SQL)
	ctx, _ = tracer(t.TracerProvider).Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(postgres, attribute.String("db.operation.name", op)))
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t *PgxTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	end(trace.SpanFromContext(ctx), data.Err)
}

// TraceBatchStart implements pgx.BatchTracer: one span for the batch (the
// views' pipelined UPDATE and COMMIT, for instance).
func (t *PgxTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	n := 0
	if data.Batch != nil {
		n = data.Batch.Len()
	}
	ctx, _ = tracer(t.TracerProvider).Start(ctx, "BATCH", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(postgres, attribute.String("db.operation.name", "BATCH"), attribute.Int("db.operation.batch.size", n)))
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer: an event per statement.
func (t *PgxTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	span := trace.SpanFromContext(ctx)
	span.AddEvent(operation(data.SQL))
}

// TraceBatchEnd implements pgx.BatchTracer.
func (t *PgxTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	end(trace.SpanFromContext(ctx), data.Err)
}

// QueryHook is a bun.QueryHook that starts a client span per query bun
// runs: db = db.WithQueryHook(&tracing.QueryHook{}). Use it for
// SQLite (or a DB models.Open did not create); on PostgreSQL prefer
// PgxTracer, which also sees the views' pgx fast path that bun never runs.
type QueryHook struct {
	// TracerProvider provides the tracer; nil means the global one.
	TracerProvider trace.TracerProvider
}

var _ bun.QueryHook = (*QueryHook)(nil)

// BeforeQuery implements bun.QueryHook.
func (h *QueryHook) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	op := e.Operation()
	attrs := []attribute.KeyValue{attribute.String("db.operation.name", op)}
	if e.DB != nil {
		attrs = append(attrs, attribute.String("db.system.name", e.DB.Dialect().Name().String()))
	}
	ctx, _ = tracer(h.TracerProvider).Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx
}

// AfterQuery implements bun.QueryHook.
func (h *QueryHook) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	end(trace.SpanFromContext(ctx), e.Err)
}

// end ends span, marking it failed for an error other than "no rows".
// The error's text is not recorded (PostgreSQL's can quote row values);
// a PostgreSQL error's SQLSTATE is, as db.response.status_code.
func end(span trace.Span, err error) {
	if err != nil && !errors.Is(err, sql.ErrNoRows) && !errors.Is(err, pgx.ErrNoRows) {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			span.SetAttributes(attribute.String("db.response.status_code", pe.Code))
		}
		span.SetStatus(codes.Error, "query failed")
	}
	span.End()
}
