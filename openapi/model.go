package openapi

import (
	"reflect"
	"strconv"

	"github.com/cosworth/cosworth/serializers"
)

// schemaUse says which component a model schema is for.
type schemaUse uint8

const (
	useResponse schemaUse = iota // Book: every field written, read-only marked
	useRequest                   // BookRequest: create and PUT
	usePatch                     // PatchedBookRequest: PATCH, nothing required
)

// fieldSchema returns the schema of one serialized field of model: the
// override in Config.FieldSchemas, else the schema of its Go type with its
// validate rules, nullable when the field accepts null.
func (g *generator) fieldSchema(model string, f *serializers.Field) *Schema {
	if s, ok := g.cfg.FieldSchemas[model+"."+f.Name]; ok {
		return s.clone()
	}
	s := typeSchema(f.Type, 0)
	typ := ""
	if len(s.Type) == 1 {
		typ = s.Type[0]
	}
	applyRules(s, typ, f.Rules)
	if f.HasDefault {
		if v, ok := defaultValue(typ, f.Default); ok {
			s.Default = v
		}
	}
	if f.Nullable {
		s = Nullable(s)
	}
	return s
}

// defaultValue converts a cosworth:"default=..." value to the field's JSON type.
func defaultValue(typ, v string) (any, bool) {
	switch typ {
	case "string":
		return v, true
	case "boolean":
		b, err := strconv.ParseBool(v)
		return b, err == nil
	case "integer":
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	case "number":
		n, err := strconv.ParseFloat(v, 64)
		return n, err == nil
	}
	return nil, false
}

// modelSchema builds the component schema of a plan for one use.
func (g *generator) modelSchema(model string, p *serializers.Plan, use schemaUse) *Schema {
	s := &Schema{Type: Types{"object"}, Properties: &Properties{}}
	for i := range p.Fields {
		f := &p.Fields[i]
		switch use {
		case useResponse:
			if f.WriteOnly {
				continue
			}
		default:
			if f.ReadOnly {
				continue
			}
		}
		fs := g.fieldSchema(model, f)
		if use == useResponse {
			if _, override := g.cfg.FieldSchemas[model+"."+f.Name]; !override {
				if n := nestedOf(p, f.Name); n != nil {
					fs = g.nestedSchema(model, n, f.Nullable)
				}
			}
		}
		switch {
		case use == useResponse && f.ReadOnly:
			fs = markRef(fs, func(s *Schema) { s.ReadOnly = true })
		case use != useResponse && f.WriteOnly:
			fs = markRef(fs, func(s *Schema) { s.WriteOnly = true })
		}
		if use != useResponse && f.Required && fs.Type.Has("string") && fs.MinLength == nil && fs.Const == nil {
			// A required string may not be blank (DRF's allow_blank=False).
			fs.MinLength = intp(1)
		}
		s.Properties.Set(f.Name, fs)
		switch {
		case use == useResponse:
			// Every field is written, null or not.
			s.Required = append(s.Required, f.Name)
		case use == useRequest && f.Required && !f.HasDefault:
			s.Required = append(s.Required, f.Name)
		}
	}
	// Nested relations under names of their own and method fields: output
	// only, after the model's fields.
	for i := range p.Extra {
		f := &p.Extra[i]
		if use != useResponse && f.ReadOnly {
			continue
		}
		var fs *Schema
		if o, ok := g.cfg.FieldSchemas[model+"."+f.Name]; ok {
			fs = o.clone()
		} else if n := nestedOf(p, f.Name); n != nil {
			fs = g.nestedSchema(model, n, f.Nullable)
		} else if f.Type != nil {
			fs = typeSchema(f.Type, 0)
		} else {
			fs = &Schema{}
		}
		if use == useResponse {
			fs = markRef(fs, func(s *Schema) { s.ReadOnly = true })
			s.Required = append(s.Required, f.Name)
		}
		s.Properties.Set(f.Name, fs)
	}
	return s
}

// nestedOf returns the nested or slug field name of p, nil when none.
func nestedOf(p *serializers.Plan, name string) *serializers.NestedPlan {
	for i := range p.Nested {
		if p.Nested[i].Name == name {
			return &p.Nested[i]
		}
	}
	return nil
}

// nestedSchema is the response schema of a field shown through a
// relation: the slug field's schema, the related serializer's object
// (inline: its fields are the nested serializer's, not the related
// model's component), or an array of them for a to-many relation.
func (g *generator) nestedSchema(model string, n *serializers.NestedPlan, nullable bool) *Schema {
	related := modelName(n.Plan.Type, "")
	var item *Schema
	if n.Slug != "" {
		f := n.Plan.Meta.Field(n.Slug)
		item = g.fieldSchema(related, &serializers.Field{Name: f.Name, Type: f.Type, Rules: f.Rules})
	} else {
		item = g.modelSchema(related, n.Plan, useResponse)
	}
	if n.Many {
		return &Schema{Type: Types{"array"}, Items: item}
	}
	if nullable {
		return Nullable(item)
	}
	return item
}

// markRef applies mark to s; a $ref cannot carry siblings in every tool, so
// a reference is wrapped in allOf first.
func markRef(s *Schema, mark func(*Schema)) *Schema {
	if s.Ref != "" {
		s = &Schema{AllOf: []*Schema{s}}
	}
	mark(s)
	return s
}

// modelName is the component name of a view's model.
func modelName(t reflect.Type, name string) string {
	if name != "" {
		return name
	}
	return t.Name()
}
