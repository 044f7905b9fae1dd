package openapi

import (
	"bytes"
	"encoding/json"
)

// Schema is a JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it). Only the
// keywords Cosworth generates or users commonly add are fields; Extra holds
// any other keyword.
type Schema struct {
	Ref         string `json:"$ref,omitempty"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// Type is one JSON type ("string") or several (["string", "null"] for
	// a nullable field).
	Type   Types  `json:"type,omitempty"`
	Format string `json:"format,omitempty"`
	Const  any    `json:"const,omitempty"`
	Enum   []any  `json:"enum,omitempty"`

	Properties           *Properties `json:"properties,omitempty"`
	Required             []string    `json:"required,omitempty"`
	AdditionalProperties *Schema     `json:"additionalProperties,omitempty"`
	Items                *Schema     `json:"items,omitempty"`

	MinLength        *int        `json:"minLength,omitempty"`
	MaxLength        *int        `json:"maxLength,omitempty"`
	Pattern          string      `json:"pattern,omitempty"`
	Minimum          json.Number `json:"minimum,omitempty"`
	Maximum          json.Number `json:"maximum,omitempty"`
	ExclusiveMinimum json.Number `json:"exclusiveMinimum,omitempty"`
	ExclusiveMaximum json.Number `json:"exclusiveMaximum,omitempty"`
	MinItems         *int        `json:"minItems,omitempty"`
	MaxItems         *int        `json:"maxItems,omitempty"`

	AllOf []*Schema `json:"allOf,omitempty"`
	AnyOf []*Schema `json:"anyOf,omitempty"`
	OneOf []*Schema `json:"oneOf,omitempty"`

	ReadOnly   bool  `json:"readOnly,omitempty"`
	WriteOnly  bool  `json:"writeOnly,omitempty"`
	Deprecated bool  `json:"deprecated,omitempty"`
	Default    any   `json:"default,omitempty"`
	Examples   []any `json:"examples,omitempty"`

	// Extra holds further keywords, written after the others (e.g.
	// "x-order" or "multipleOf").
	Extra map[string]any `json:"-"`
}

// Ref returns a schema referring to the component schema name.
func Ref(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }

// MarshalJSON writes s with its Extra keywords.
func (s *Schema) MarshalJSON() ([]byte, error) {
	type plain Schema
	b, err := json.Marshal((*plain)(s))
	if err != nil || len(s.Extra) == 0 {
		return b, err
	}
	extra, err := json.Marshal(s.Extra)
	if err != nil {
		return nil, err
	}
	if len(b) == 2 { // {}
		return extra, nil
	}
	b = append(b[:len(b)-1], ',')
	return append(b, extra[1:]...), nil
}

// Types is the "type" keyword: one type name or several.
type Types []string

// MarshalJSON writes a single type as a string and several as an array.
func (t Types) MarshalJSON() ([]byte, error) {
	if len(t) == 1 {
		return json.Marshal(t[0])
	}
	return json.Marshal([]string(t))
}

// UnmarshalJSON reads a string or an array of strings.
func (t *Types) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*t = Types{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(t))
}

// Has reports whether t includes name.
func (t Types) Has(name string) bool {
	for _, n := range t {
		if n == name {
			return true
		}
	}
	return false
}

// Properties are an object's properties in declaration order (the
// serializer's field order), unlike a map.
type Properties struct {
	names   []string
	schemas map[string]*Schema
}

// Set adds or replaces the property name. A new property goes last.
func (p *Properties) Set(name string, s *Schema) {
	if p.schemas == nil {
		p.schemas = make(map[string]*Schema)
	}
	if _, ok := p.schemas[name]; !ok {
		p.names = append(p.names, name)
	}
	p.schemas[name] = s
}

// Get returns the schema of property name, or nil.
func (p *Properties) Get(name string) *Schema {
	if p == nil {
		return nil
	}
	return p.schemas[name]
}

// Delete removes property name.
func (p *Properties) Delete(name string) {
	if _, ok := p.schemas[name]; !ok {
		return
	}
	delete(p.schemas, name)
	for i, n := range p.names {
		if n == name {
			p.names = append(p.names[:i:i], p.names[i+1:]...)
			break
		}
	}
}

// Names returns the property names in order.
func (p *Properties) Names() []string {
	if p == nil {
		return nil
	}
	return append([]string(nil), p.names...)
}

// Len returns the number of properties.
func (p *Properties) Len() int {
	if p == nil {
		return 0
	}
	return len(p.names)
}

// MarshalJSON writes the properties as an object, in order.
func (p *Properties) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, n := range p.names {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(n)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(p.schemas[n])
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// clone returns a deep copy of s (Extra, Enum, Examples and Default
// values are shared).
func (s *Schema) clone() *Schema {
	if s == nil {
		return nil
	}
	c := *s
	c.Type = append(Types(nil), s.Type...)
	c.Required = append([]string(nil), s.Required...)
	c.Enum = append([]any(nil), s.Enum...)
	if s.Properties != nil {
		c.Properties = &Properties{}
		for _, n := range s.Properties.names {
			c.Properties.Set(n, s.Properties.schemas[n].clone())
		}
	}
	c.AdditionalProperties = s.AdditionalProperties.clone()
	c.Items = s.Items.clone()
	c.AllOf = cloneAll(s.AllOf)
	c.AnyOf = cloneAll(s.AnyOf)
	c.OneOf = cloneAll(s.OneOf)
	if s.MinLength != nil {
		c.MinLength = intp(*s.MinLength)
	}
	if s.MaxLength != nil {
		c.MaxLength = intp(*s.MaxLength)
	}
	if s.MinItems != nil {
		c.MinItems = intp(*s.MinItems)
	}
	if s.MaxItems != nil {
		c.MaxItems = intp(*s.MaxItems)
	}
	return &c
}

func cloneAll(ss []*Schema) []*Schema {
	if ss == nil {
		return nil
	}
	out := make([]*Schema, len(ss))
	for i, s := range ss {
		out[i] = s.clone()
	}
	return out
}

func intp(n int) *int { return &n }
