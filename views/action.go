package views

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/throttling"
)

// Action is an extra route of a viewset, DRF's @action: a detail action
// is served at {prefix}/{lookup}/{URLPath}/ and receives the object the
// URL names, a list action at {prefix}/{URLPath}/. It runs the generic
// views' flow: the authentication outcome, Permissions, Throttles, the
// method (405 with Allow otherwise; OPTIONS answers DRF's metadata), then
// for a detail action the object is loaded through the viewset's
// Queryset and lookup (404 when there is none) and its object permissions
// are checked; with a write method (POST, PUT, PATCH, DELETE) it is read
// and locked in a transaction (FOR UPDATE on PostgreSQL; on SQLite the
// transaction holds the write lock from its start, as models.Open's
// immediate transactions do), so concurrent read-modify-writes compose.
// Then the body is decoded and validated (RunBody), Run's function runs,
// and the transaction commits. Every error goes through WriteError.
type Action[T any] struct {
	// Name names the action (the Python method's name, "discount"): it
	// is the default URLPath, and the action PerAction is called with.
	// Required; lower-case letters, digits and "_".
	Name string
	// Detail makes it a detail action (DRF's detail=True).
	Detail bool
	// Methods are the HTTP methods it answers; nil means GET. HEAD comes
	// with GET and OPTIONS always.
	Methods []string
	// URLPath is the path segment(s) of the route; empty means Name.
	URLPath string
	// URLName is the route's name suffix ("{basename}-{URLName}");
	// empty means Name with "_" replaced by "-".
	URLName string
	// Permissions, when not nil, replace the viewset's for this action
	// (DRF's @action(permission_classes=...)).
	Permissions []permissions.Permission
	// Throttles, when not nil, replace the viewset's for this action.
	Throttles []throttling.Throttle
	// Description appears in OPTIONS responses and in the OpenAPI
	// operation.
	Description string
	// Run handles the action: views.Run(fn) for one without a body,
	// views.RunBody(fn) for one whose body is decoded into a struct.
	Run ActionFunc[T]
}

// ActionFunc is an action's handler, made by Run or RunBody.
type ActionFunc[T any] struct {
	in   reflect.Type      // the body's type; nil without a body
	plan *serializers.Plan // the body's plan, for OPTIONS and OpenAPI
	call func(c *Call[T], body []byte) error
}

// Run makes the handler of an action without a request body.
func Run[T any](fn func(c *Call[T]) error) ActionFunc[T] {
	return ActionFunc[T]{call: func(c *Call[T], _ []byte) error { return fn(c) }}
}

// RunBody makes the handler of an action whose JSON body is decoded into
// a new In and validated by a serializers.Serializer[In] (In's json,
// validate and cosworth tags, DRF's messages: a 400 {"field":
// [...]} before fn runs), the action's own serializer.
func RunBody[T, In any](fn func(c *Call[T], in *In) error) ActionFunc[T] {
	ser := &serializers.Serializer[In]{}
	return ActionFunc[T]{
		in:   reflect.TypeFor[In](),
		plan: ser.Plan(),
		call: func(c *Call[T], body []byte) error {
			in := new(In)
			if err := ser.Decode(c.Request.Context(), body, in, serializers.Create); err != nil {
				return err
			}
			return fn(c, in)
		},
	}
}

// Call is what an action's handler receives.
type Call[T any] struct {
	// Request is the request, its context bounded by the view's Timeout.
	Request *http.Request
	// Object is the object of a detail action, loaded and
	// permission-checked (locked in DB for a write method); nil for a
	// list action.
	Object *T
	// DB runs the handler's queries: the action's transaction for a
	// write method (it commits when the handler returns nil and rolls
	// back otherwise), the viewset's DB for GET.
	DB bun.IDB

	g      *Generic[T]
	p      *plan[T]
	t      *tx // the action's transaction, or nil
	status int
	body   []byte
	set    bool
	change Change
}

// Save writes the named columns of Object (bun column names; none means
// every writable column of the serializer) with an UPDATE ... RETURNING in
// the action's transaction, so Object then holds what the row holds. The
// auto_now columns (models.Base's updated_at) are written with them,
// each once. After the commit the viewset's OnCommit sees Updated.
func (c *Call[T]) Save(columns ...string) error {
	if c.Object == nil || c.t == nil {
		return errorString("cosworth/views: Call.Save needs a detail action with a write method")
	}
	cols := c.p.updateCols
	if len(columns) > 0 {
		cols = make([]string, 0, len(columns)+1)
		for _, col := range columns {
			if !c.p.table.HasField(col) {
				return fmt.Errorf("cosworth/views: Call.Save: %q is not a column of %s", col, c.p.table.Name)
			}
			if !slices.Contains(cols, col) {
				cols = append(cols, col)
			}
		}
		for _, f := range c.p.fields.Meta.Fields {
			if f.AutoNow && c.p.table.HasField(f.Column) && !slices.Contains(cols, f.Column) {
				cols = append(cols, f.Column)
			}
		}
	}
	q := c.g.DB.NewUpdate().Model(c.Object).Column(cols...).WherePK().Returning("?", bun.Safe(c.p.returning))
	if err := c.t.exec(c.Request.Context(), q); err != nil {
		return err
	}
	c.change = Updated
	return nil
}

// Delete deletes Object in the action's transaction; after the commit
// the viewset's OnCommit sees Deleted, and without Respond the action
// answers 204.
func (c *Call[T]) Delete() error {
	if c.Object == nil || c.t == nil {
		return errorString("cosworth/views: Call.Delete needs a detail action with a write method")
	}
	if err := c.t.exec(c.Request.Context(), c.g.DB.NewDelete().Model(c.Object).WherePK()); err != nil {
		return err
	}
	c.change = Deleted
	return nil
}

// Respond sets the answer, written once the transaction committed: status
// and body, a complete JSON document (nil for none, e.g. 204). Without
// it a detail action answers 200 with Object as the viewset's serializer
// represents it, and a list action 204.
func (c *Call[T]) Respond(status int, body []byte) {
	c.status, c.body, c.set = status, body, true
}

// RespondObject sets the answer to status with obj as the viewset's
// serializer represents it.
func (c *Call[T]) RespondObject(status int, obj *T) {
	c.Respond(status, c.p.ser.AppendJSON(nil, obj))
}

// actionRoute serves one Action of a viewset.
type actionRoute[T any] struct {
	vs      *viewset[T]
	spec    *Action[T]
	urlPath string
	urlName string
	caps    caps
	methods []string // allowed, DRF's order
	allow   []string // the Allow header
	g       *Generic[T]
	options []byte
	// bodyInfo is the OPTIONS field information of RunBody's In; nil
	// for an action without a body.
	bodyInfo []byte
}

var actionMethodOrder = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func newActionRoute[T any](vs *viewset[T], a *Action[T]) *actionRoute[T] {
	if !validName(a.Name, "_") {
		setupPanic("action name %q: use lower-case letters, digits and _", a.Name)
	}
	if a.Run.call == nil {
		setupPanic("action %q has no Run; set Run: views.Run(fn) or views.RunBody(fn)", a.Name)
	}
	r := &actionRoute[T]{vs: vs, spec: a, urlPath: a.URLPath, urlName: a.URLName}
	if r.urlPath == "" {
		r.urlPath = a.Name
	}
	for seg := range strings.SplitSeq(r.urlPath, "/") {
		if !validName(seg, "_-.") || strings.Trim(seg, ".") == "" {
			setupPanic("action %q: URLPath %q: use segments of lower-case letters, digits, _, - and .", a.Name, r.urlPath)
		}
	}
	if r.urlName == "" {
		r.urlName = strings.ReplaceAll(a.Name, "_", "-")
	}
	methods := a.Methods
	if len(methods) == 0 {
		methods = []string{http.MethodGet}
	}
	for _, m := range methods {
		if !slices.Contains(actionMethodOrder, strings.ToUpper(m)) {
			setupPanic("action %q: method %q: use GET, POST, PUT, PATCH or DELETE", a.Name, m)
		}
	}
	for _, m := range actionMethodOrder {
		if slices.ContainsFunc(methods, func(s string) bool { return strings.EqualFold(s, m) }) {
			r.methods = append(r.methods, m)
		}
	}
	if slices.Contains(r.methods, http.MethodGet) {
		r.methods = append(r.methods, http.MethodHead)
	}
	r.methods = append(r.methods, http.MethodOptions)
	r.allow = []string{strings.Join(r.methods, ", ")}
	r.caps = capList
	if a.Detail {
		r.caps = capRetrieve
	}
	return r
}

// validName reports whether s is non-empty and made of a-z, 0-9 and the
// characters of extra.
func validName(s, extra string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && !strings.ContainsRune(extra, c) {
			return false
		}
	}
	return true
}

// checkActionNames panics when two routes of a viewset share a name or a
// path.
func checkActionNames(routes []Route) {
	for i, a := range routes {
		for _, b := range routes[:i] {
			if a.Name == b.Name || a.Path == b.Path {
				setupPanic("two routes of a viewset are both named %q or both at %q; give the actions distinct names and URL paths", a.Name, a.Path)
			}
		}
	}
}

// derive sets the action's configuration up: the viewset's, adjusted by
// PerAction, then the action's own permissions and throttles.
func (a *actionRoute[T]) derive() {
	g := a.vs.derive(a.spec.Name)
	if a.spec.Permissions != nil {
		g.Permissions = a.spec.Permissions
	}
	if a.spec.Throttles != nil {
		g.Throttles = a.spec.Throttles
	}
	a.g = g
	name := g.Name
	if name == "" {
		name = prettyName(a.spec.Name)
	}
	a.options = optionsBody(name, a.spec.Description)
	if a.spec.Run.plan != nil {
		a.bodyInfo = fieldInfo(a.spec.Run.plan, func(string) bool { return false })
	}
}

// prettyName is Django's pretty_name: "apply_discount" -> "Apply discount".
func prettyName(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ServeHTTP runs the action's flow.
func (a *actionRoute[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.vs.setup()
	g := a.g
	p := g.setup(a.caps)
	method := r.Method
	if method == http.MethodHead {
		w = headWriter{w}
		if slices.Contains(a.methods, http.MethodGet) {
			method = http.MethodGet
		}
	}
	w.Header()["Allow"] = a.allow
	if err := initial(r, g.Permissions, g.Throttles); err != nil {
		WriteError(w, r, err)
		return
	}
	if method == http.MethodOptions {
		if err := a.metadata(w, r, g, p); err != nil {
			WriteError(w, r, err)
		}
		return
	}
	if method == http.MethodHead || !slices.Contains(a.methods, method) {
		WriteError(w, r, &methodNotAllowedError{method: r.Method})
		return
	}
	if d, ok := r.Context().Deadline(); !ok || time.Until(d) > p.timeout {
		ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	if err := a.run(w, r, g, p, method != http.MethodGet); err != nil {
		WriteError(w, r, err)
	}
}

// run loads (and for a write, locks) the object of a detail action, or
// begins the transaction of a list action's write; reads and decodes the
// body; calls the handler; commits; then answers. The body is read before
// the transaction begins, so no lock waits on a slow client, but its
// errors come after a 404 or 403 on the object, in DRF's order.
func (a *actionRoute[T]) run(w http.ResponseWriter, r *http.Request, g *Generic[T], p *plan[T], write bool) error {
	var (
		body    []byte
		bodyErr error
	)
	if a.spec.Run.in != nil {
		in := jsonbody.GetBuffer()
		defer jsonbody.PutBuffer(in)
		body, bodyErr = readBody(r, p.maxBody, in, a.spec.Run.plan)
	}
	ctx := r.Context()
	c := &Call[T]{Request: r, DB: g.DB, g: g, p: p}
	var t *tx
	switch {
	case a.spec.Detail && write:
		obj, lt, err := g.lock(r, p, false, false)
		if err != nil {
			return err
		}
		t, c.Object = lt, obj
	case a.spec.Detail:
		obj, err := g.load(r, p)
		if err != nil {
			return err
		}
		c.Object = obj
	case write:
		bt, err := p.run.begin(ctx)
		if err != nil {
			return err
		}
		t = bt
	}
	if t != nil {
		// Rolls back on every path that does not commit, a panicking
		// handler included.
		defer t.close(ctx)
		c.DB, c.t = t.Tx(), t
	}
	if bodyErr != nil {
		return bodyErr
	}
	err := a.spec.Run.call(c, body)
	if err == nil && t != nil {
		err = t.commit(ctx)
	}
	if err != nil {
		if c.Object != nil {
			return p.ser.ConstraintError(err, c.Object)
		}
		return err
	}
	if c.change != 0 {
		g.committed(r, c.change, c.Object)
	}
	switch {
	case c.set && c.body == nil:
		w.WriteHeader(c.status)
	case c.set:
		jsonbody.Write(w, c.status, c.body)
	case c.change == Deleted || c.Object == nil:
		w.WriteHeader(http.StatusNoContent)
	default:
		out := jsonbody.GetBuffer()
		*out = p.ser.AppendJSON(*out, c.Object)
		jsonbody.Write(w, http.StatusOK, *out)
		jsonbody.PutBuffer(out)
	}
	return nil
}

// ActionInfo describes an action's route for schema generation.
type ActionInfo struct {
	// Info describes the viewset's model as the action sees it; Methods
	// are the action's, Detail and URLParam say whether the route holds
	// the lookup.
	Info
	// Action is the action's Name; Description its Description.
	Action      string
	Description string
	// Request is the body's type and RequestPlan its plan; nil for an
	// action without a body.
	Request     reflect.Type
	RequestPlan *serializers.Plan
}

// ActionDescriber is implemented by the routes of a viewset's actions.
type ActionDescriber interface {
	DescribeAction() ActionInfo
}

// DescribeAction describes the action for schema generation. It sets the
// viewset up, so a misconfigured viewset panics here.
func (a *actionRoute[T]) DescribeAction() ActionInfo {
	a.vs.setup()
	info := a.g.setup(a.caps).info
	info.Methods = a.methods
	info.Detail = a.spec.Detail
	return ActionInfo{
		Info:        info,
		Action:      a.spec.Name,
		Description: a.spec.Description,
		Request:     a.spec.Run.in,
		RequestPlan: a.spec.Run.plan,
	}
}

var _ ActionDescriber = (*actionRoute[struct{}])(nil)
