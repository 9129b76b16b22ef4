package workflows_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// TestSearchAttributesAreWhatTheWorkflowSets holds workflows.SearchAttributes, the list
// the dev server and the tests' namespaces register, to the typed keys the workflow
// uses: an attribute set at start or upserted that is missing from the list, or listed
// with another type, makes starting or upserting fail on a real server; one listed but
// never set is registered for nothing.
func TestSearchAttributesAreWhatTheWorkflowSets(t *testing.T) {
	listed := map[string]workflows.SearchAttribute{}
	for _, sa := range workflows.SearchAttributes() {
		if _, dup := listed[sa.Name]; dup {
			t.Errorf("%s is listed twice", sa.Name)
		}
		listed[sa.Name] = sa
	}
	set := map[string]bool{}
	check := func(t *testing.T, where string, keys []temporal.SearchAttributeKey) {
		t.Helper()
		for _, k := range keys {
			set[k.GetName()] = true
			sa, ok := listed[k.GetName()]
			switch {
			case !ok:
				t.Errorf("%s sets %s (%s), which workflows.SearchAttributes does not list", where, k.GetName(), k.GetValueType())
			case sa.Type != k.GetValueType():
				t.Errorf("%s sets %s as %s; workflows.SearchAttributes lists it as %s", where, k.GetName(), k.GetValueType(), sa.Type)
			}
		}
	}

	for _, method := range []domain.Method{domain.MethodShipToStore, domain.MethodHomeDelivery} {
		t.Run(string(method), func(t *testing.T) {
			h := newHarness(t, method)
			check(t, "StartSearchAttributes", keysOf(workflows.StartSearchAttributes(h.in.Order)))
			rec := &upsertRecorder{}
			h.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{rec}})
			h.checkout()
			// Picked after the SLA (NeedsAttention is upserted), then the stages to the end.
			late := h.in.Policy.PickingSLA + time.Hour
			h.pickAll(late)
			var updates []*outcome
			if method == domain.MethodShipToStore {
				until := mondayMorning.Add(late + h.in.Policy.PickupWindow + 2*24*time.Hour)
				updates = append(updates,
					h.update(late+time.Hour, workflows.UpdateExtendPickup, workflows.ExtendPickupRequest{Until: until, By: "support-1"}, nil),
					h.collect(late+2*time.Hour))
			} else {
				h.env.RegisterDelayedCallback(h.deliver, late+24*time.Hour)
			}

			final := h.run()

			equal(t, "final stage", final.Stage, domain.StageCompleted)
			for _, u := range updates {
				if !u.done || u.err != nil || u.rejected != nil {
					t.Fatalf("update: %+v", u)
				}
			}
			if len(rec.keys) == 0 {
				t.Fatal("the workflow upserted no search attributes")
			}
			check(t, "the workflow's upsert", rec.keys)
		})
	}
	for name := range listed {
		if !set[name] {
			t.Errorf("%s is listed in workflows.SearchAttributes but never set", name)
		}
	}
}

// keysOf returns the keys of the attributes sa sets.
func keysOf(sa temporal.SearchAttributes) []temporal.SearchAttributeKey {
	var keys []temporal.SearchAttributeKey
	for k := range sa.GetUntypedValues() {
		keys = append(keys, k)
	}
	return keys
}

// upsertRecorder is a worker interceptor that records the key of every search
// attribute the workflow upserts, with the type the workflow's code gives it.
type upsertRecorder struct {
	interceptor.WorkerInterceptorBase
	keys []temporal.SearchAttributeKey
}

func (r *upsertRecorder) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &upsertRecorderInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, r: r}
}

type upsertRecorderInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	r *upsertRecorder
}

func (i *upsertRecorderInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&upsertRecorderOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, r: i.r})
}

type upsertRecorderOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	r *upsertRecorder
}

func (o *upsertRecorderOutbound) UpsertTypedSearchAttributes(ctx workflow.Context, updates ...temporal.SearchAttributeUpdate) error {
	//workflowcheck:ignore only records the keys for the test: the workflow never reads them, and their order does not matter
	o.r.keys = append(o.r.keys, keysOf(temporal.NewSearchAttributes(updates...))...)
	return o.Next.UpsertTypedSearchAttributes(ctx, updates...)
}
