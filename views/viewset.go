package views

import (
	"net/http"
	"reflect"
	"slices"
	"sync"
)

// Mixins selects the standard actions a GenericViewSet serves, as a DRF
// GenericViewSet is composed with ListModelMixin, CreateModelMixin, ...
type Mixins uint8

// The standard actions of a viewset.
const (
	// ListMixin serves GET {prefix}/ (action "list").
	ListMixin = Mixins(capList)
	// CreateMixin serves POST {prefix}/ (action "create").
	CreateMixin = Mixins(capCreate)
	// RetrieveMixin serves GET {prefix}/{lookup}/ (action "retrieve").
	RetrieveMixin = Mixins(capRetrieve)
	// UpdateMixin serves PUT and PATCH {prefix}/{lookup}/ (actions
	// "update" and "partial_update").
	UpdateMixin = Mixins(capUpdate)
	// DestroyMixin serves DELETE {prefix}/{lookup}/ (action "destroy").
	DestroyMixin = Mixins(capDestroy)

	// ModelMixins are the actions of a ModelViewSet.
	ModelMixins = ListMixin | CreateMixin | RetrieveMixin | UpdateMixin | DestroyMixin
	// ReadOnlyMixins are the actions of a ReadOnlyModelViewSet.
	ReadOnlyMixins = ListMixin | RetrieveMixin
)

// ModelViewSet is DRF's ModelViewSet: list and create on {prefix}/,
// retrieve, update, partial update and destroy on {prefix}/{lookup}/, and
// the extra Actions, each route served by the generic views' request flow
// with the configuration of Generic. Register it on a SimpleRouter or
// DefaultRouter. Set the fields before it is registered and do not
// change them afterwards; each route sets itself up on first use (a
// misconfiguration panics then, as a generic view's does).
type ModelViewSet[T any] struct {
	// Generic is the configuration every action shares (DRF's
	// queryset, serializer_class, permission_classes, ...).
	Generic[T]
	// Actions are the extra routes (DRF's @action).
	Actions []Action[T]
	// PerAction, when set, adjusts the configuration of one action: g is
	// a copy of Generic for it, called once per action when the viewset
	// is set up, with "list", "create", "retrieve", "update",
	// "partial_update", "destroy" or an Action's Name. It is the
	// counterpart of overriding get_serializer_class, get_permissions or
	// get_queryset with `if self.action == ...`: set g.Serializer,
	// g.Permissions, g.Queryset, g.Paginator, ... there.
	PerAction func(action string, g *Generic[T])

	vs viewset[T]
}

// ReadOnlyModelViewSet is DRF's ReadOnlyModelViewSet: list on {prefix}/,
// retrieve on {prefix}/{lookup}/, and the extra Actions. See ModelViewSet
// for the fields.
type ReadOnlyModelViewSet[T any] struct {
	Generic[T]
	Actions   []Action[T]
	PerAction func(action string, g *Generic[T])

	vs viewset[T]
}

// GenericViewSet is DRF's GenericViewSet with the mixins of Mixins: only
// the standard actions named there, and the extra Actions. See
// ModelViewSet for the other fields.
type GenericViewSet[T any] struct {
	Generic[T]
	// Mixins are the standard actions served; 0 means none (a viewset
	// of Actions only).
	Mixins    Mixins
	Actions   []Action[T]
	PerAction func(action string, g *Generic[T])

	vs viewset[T]
}

// Routes returns the routes of the viewset for a router, with d as the
// defaults of its configuration. A viewset registered on a second router
// keeps the routes and defaults of the first.
func (v *ModelViewSet[T]) Routes(d Defaults) []Route {
	return v.vs.routes(&v.Generic, ModelMixins, v.Actions, v.PerAction, d)
}

// Routes returns the routes of the viewset for a router, with d as the
// defaults of its configuration. A viewset registered on a second router
// keeps the routes and defaults of the first.
func (v *ReadOnlyModelViewSet[T]) Routes(d Defaults) []Route {
	return v.vs.routes(&v.Generic, ReadOnlyMixins, v.Actions, v.PerAction, d)
}

// Routes returns the routes of the viewset for a router, with d as the
// defaults of its configuration. A viewset registered on a second router
// keeps the routes and defaults of the first.
func (v *GenericViewSet[T]) Routes(d Defaults) []Route {
	return v.vs.routes(&v.Generic, v.Mixins, v.Actions, v.PerAction, d)
}

// ViewSet is what a router mounts: a set of routes under one prefix. The
// viewsets of this package implement it; so may a type of yours.
type ViewSet interface {
	// Routes returns the viewset's routes, configured with d where they
	// set nothing of their own. It panics for a misconfigured viewset.
	Routes(d Defaults) []Route
}

// Route is one route of a viewset, relative to its prefix.
type Route struct {
	// Path is the route's path under the prefix, without the trailing
	// slash: "" for the list route, "/{id}" for the detail route,
	// "/{id}/discount" for a detail action, "/recent" for a list action.
	Path string
	// Name is DRF's url_name suffix: "list", "detail" or the action's
	// URLName; a router names the route "{basename}-{Name}".
	Name string
	// Handler serves every method of the route.
	Handler http.Handler
}

var (
	_ ViewSet = (*ModelViewSet[struct{}])(nil)
	_ ViewSet = (*ReadOnlyModelViewSet[struct{}])(nil)
	_ ViewSet = (*GenericViewSet[struct{}])(nil)
)

// viewset is the state shared by the viewset types: the configurations
// of its actions, derived once from the viewset's Generic.
type viewset[T any] struct {
	once      sync.Once
	base      *Generic[T]
	perAction func(string, *Generic[T])
	d         Defaults

	list, detail stdRoute[T]
	actions      []*actionRoute[T]
	routed       []Route // what routes returned
	derived      bool    // setup succeeded
	setupErr     any     // else the panic value of setup, re-raised on every use
}

// stdRoute is the list or the detail route of a viewset: the generic
// view flow with the route's capabilities, run by the configuration of
// the request's action.
type stdRoute[T any] struct {
	vs   *viewset[T]
	caps caps
	// get serves GET, HEAD, OPTIONS and unknown methods; the others
	// serve their method. Without PerAction they are all one.
	get, post, put, patch, delete *Generic[T]
}

// routes records the configuration and returns the routes. Nothing is
// derived until the first request (or Describe), so that fields set
// after registration (an OnCommit hook) still count.
func (vs *viewset[T]) routes(base *Generic[T], m Mixins, actions []Action[T], perAction func(string, *Generic[T]), d Defaults) []Route {
	if vs.routed != nil {
		return vs.routed // registered before: one configuration, the first router's defaults
	}
	vs.base, vs.perAction, vs.d = base, perAction, d
	param := base.URLParam
	if param == "" {
		param = "id"
	}
	var out []Route
	c := caps(m)
	if lc := c & (capList | capCreate); lc != 0 {
		vs.list = stdRoute[T]{vs: vs, caps: lc}
		out = append(out, Route{Path: "", Name: "list", Handler: &vs.list})
	}
	if dc := c & (capRetrieve | capUpdate | capDestroy); dc != 0 {
		vs.detail = stdRoute[T]{vs: vs, caps: dc}
		out = append(out, Route{Path: "/{" + param + "}", Name: "detail", Handler: &vs.detail})
	}
	vs.actions = vs.actions[:0]
	for i := range actions {
		a := newActionRoute(vs, &actions[i])
		vs.actions = append(vs.actions, a)
		path := "/" + a.urlPath
		if a.spec.Detail {
			path = "/{" + param + "}" + path
		}
		out = append(out, Route{Path: path, Name: a.urlName, Handler: a})
	}
	checkActionNames(out)
	vs.routed = slices.Clip(out)
	return vs.routed
}

// setup derives the configuration of every action, once. A
// misconfigured viewset panics, on every use.
func (vs *viewset[T]) setup() {
	vs.once.Do(func() {
		defer func() {
			if v := recover(); v != nil {
				vs.setupErr = v
			}
		}()
		vs.derived = vs.deriveAll()
	})
	if !vs.derived {
		panic(vs.setupErr)
	}
}

// deriveAll derives the configurations; it reports true when done.
func (vs *viewset[T]) deriveAll() bool {
	if vs.base == nil {
		setupPanic("a viewset served before a router registered it; register it with a SimpleRouter or DefaultRouter")
	}
	if vs.list.caps != 0 {
		vs.list.derive(vs, "list", "create")
	}
	if vs.detail.caps != 0 {
		vs.detail.derive(vs, "retrieve", "update", "partial_update", "destroy")
	}
	for _, a := range vs.actions {
		a.derive()
	}
	return true
}

// derive sets the configurations of a standard route: one copy of the
// viewset's Generic, or one per action when PerAction may tell them apart.
func (s *stdRoute[T]) derive(vs *viewset[T], names ...string) {
	defer func() {
		if s.get != nil { // nil when a PerAction panicked
			s.get.optPost, s.get.optPut = s.post, s.put
		}
	}()
	if vs.perAction == nil {
		g := vs.derive("")
		s.get, s.post, s.put, s.patch, s.delete = g, g, g, g, g
		return
	}
	if len(names) == 2 { // list, create
		s.get, s.post = vs.derive(names[0]), vs.derive(names[1])
		s.put, s.patch, s.delete = s.get, s.get, s.get
		if s.caps&capList == 0 {
			s.get = s.post
		}
		return
	}
	s.get, s.put, s.patch, s.delete = vs.derive(names[0]), vs.derive(names[1]), vs.derive(names[2]), vs.derive(names[3])
	s.post = s.get
	switch {
	case s.caps&capRetrieve != 0:
	case s.caps&capUpdate != 0:
		s.get = s.put
	default:
		s.get = s.delete
	}
}

// derive returns a new Generic with the viewset's configuration, adjusted
// by PerAction for action (unless action is "") and completed by the
// router's Defaults. Its plan is its own, built on first use.
func (vs *viewset[T]) derive(action string) *Generic[T] {
	g := new(Generic[T])
	// A plain copy of every field (a field added to Generic is carried
	// without a change here); reflect, because Generic holds a sync.Once
	// that the copy then resets, which vet's copylocks cannot tell.
	reflect.ValueOf(g).Elem().Set(reflect.ValueOf(vs.base).Elem())
	g.once = sync.Once{}
	g.plan, g.planErr = nil, nil
	if action != "" && vs.perAction != nil {
		vs.perAction(action, g)
	}
	ApplyDefaults(g, vs.d)
	return g
}

// ServeHTTP serves the route with the generic views' flow, by the
// configuration of the request's action.
func (s *stdRoute[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.vs.setup()
	s.pick(r.Method).serve(w, r, s.caps)
}

// pick returns the configuration that serves method.
func (s *stdRoute[T]) pick(method string) *Generic[T] {
	switch method {
	case http.MethodPost:
		return s.post
	case http.MethodPut:
		return s.put
	case http.MethodPatch:
		return s.patch
	case http.MethodDelete:
		return s.delete
	}
	return s.get
}

// Describe describes the route for schema generation (by the
// configuration of list or retrieve). It sets the viewset up, so a
// misconfigured viewset panics here.
func (s *stdRoute[T]) Describe() Info {
	s.vs.setup()
	return s.get.setup(s.caps).info
}

// DescribeMethod describes the route as it serves method, by the
// configuration of that method's action (PerAction may give each its
// own serializer and permissions).
func (s *stdRoute[T]) DescribeMethod(method string) Info {
	s.vs.setup()
	return s.pick(method).setup(s.caps).info
}

// MethodDescriber is implemented by a route whose description depends on
// the method, such as a viewset's list and detail routes: schema
// generation describes each method with DescribeMethod.
type MethodDescriber interface {
	Describer
	DescribeMethod(method string) Info
}

var _ MethodDescriber = (*stdRoute[struct{}])(nil)
