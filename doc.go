// Package cosworth builds JSON web services the way Django REST Framework
// does: declare a bun model, instantiate a generic view from package views,
// plug in permissions, mount it on a chi router and serve it with Server,
// which adds safe timeouts, body limits, panic recovery, request ids,
// structured logs, health checks and graceful shutdown.
package cosworth
