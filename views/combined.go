package views

import "net/http"

// ServeHTTP serves GET and HEAD (the list), POST, and OPTIONS.
func (v *ListCreateView[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*Generic[T])(v).serve(w, r, capList|capCreate)
}

// Describe describes the view for schema generation. It sets the view up,
// so a misconfigured view panics here.
func (v *ListCreateView[T]) Describe() Info { return (*Generic[T])(v).setup(capList | capCreate).info }

// ServeHTTP serves GET and HEAD (the object), PUT, PATCH, and OPTIONS.
func (v *RetrieveUpdateView[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*Generic[T])(v).serve(w, r, capRetrieve|capUpdate)
}

// Describe describes the view for schema generation. It sets the view up,
// so a misconfigured view panics here.
func (v *RetrieveUpdateView[T]) Describe() Info {
	return (*Generic[T])(v).setup(capRetrieve | capUpdate).info
}

// ServeHTTP serves GET and HEAD (the object), DELETE, and OPTIONS.
func (v *RetrieveDestroyView[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*Generic[T])(v).serve(w, r, capRetrieve|capDestroy)
}

// Describe describes the view for schema generation. It sets the view up,
// so a misconfigured view panics here.
func (v *RetrieveDestroyView[T]) Describe() Info {
	return (*Generic[T])(v).setup(capRetrieve | capDestroy).info
}

// ServeHTTP serves GET and HEAD (the object), PUT, PATCH, DELETE, and OPTIONS.
func (v *RetrieveUpdateDestroyView[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*Generic[T])(v).serve(w, r, capRetrieve|capUpdate|capDestroy)
}

// Describe describes the view for schema generation. It sets the view up,
// so a misconfigured view panics here.
func (v *RetrieveUpdateDestroyView[T]) Describe() Info {
	return (*Generic[T])(v).setup(capRetrieve | capUpdate | capDestroy).info
}

// Every generic view is an http.Handler and a Describer.
var (
	_ http.Handler = (*ListView[struct{}])(nil)
	_ http.Handler = (*CreateView[struct{}])(nil)
	_ http.Handler = (*RetrieveView[struct{}])(nil)
	_ http.Handler = (*UpdateView[struct{}])(nil)
	_ http.Handler = (*DestroyView[struct{}])(nil)
	_ http.Handler = (*ListCreateView[struct{}])(nil)
	_ http.Handler = (*RetrieveUpdateView[struct{}])(nil)
	_ http.Handler = (*RetrieveDestroyView[struct{}])(nil)
	_ http.Handler = (*RetrieveUpdateDestroyView[struct{}])(nil)
	_ Describer    = (*ListView[struct{}])(nil)
	_ Describer    = (*CreateView[struct{}])(nil)
	_ Describer    = (*RetrieveView[struct{}])(nil)
	_ Describer    = (*UpdateView[struct{}])(nil)
	_ Describer    = (*DestroyView[struct{}])(nil)
	_ Describer    = (*ListCreateView[struct{}])(nil)
	_ Describer    = (*RetrieveUpdateView[struct{}])(nil)
	_ Describer    = (*RetrieveDestroyView[struct{}])(nil)
	_ Describer    = (*RetrieveUpdateDestroyView[struct{}])(nil)
)
