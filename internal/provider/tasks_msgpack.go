package provider

import (
	"encoding/binary"
	"math"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// encodeTasksMsgPack writes the tasks attribute of koophone_instance_tasks
// as msgpack, the way Terraform's protocol encodes a list of objects (cty's
// msgpack: a list is an array, an object a map from attribute name to
// value, in sorted name order). Each element carries exactly what
// taskElement (task_list.go, built on newTaskOutcome) gives a task; the
// equivalence test decodes both and compares them.
func encodeTasksMsgPack(w *msgpackWriter, tasks []koophone.Task) {
	w.arrayHeader(len(tasks))
	for i, t := range tasks {
		sum := t.Summary()
		// Attributes in sorted order.
		w.mapHeader(9)
		w.str("failed_count")
		w.int(int64(sum.Failed))
		w.str("job_count")
		w.int(int64(sum.Jobs))
		w.str("jobs")
		w.arrayHeader(len(t.Jobs))
		for _, j := range t.Jobs {
			w.mapHeader(6)
			w.str("error_code")
			w.str(j.ErrorCode)
			w.str("error_msg")
			w.str(j.ErrorMsg)
			w.str("execute_msg")
			w.str(j.ExecuteMsg)
			w.str("job_id")
			w.str(j.JobID)
			w.str("state")
			w.str(string(j.State()))
			w.str("status")
			w.int(j.Status)
		}
		w.str("running_count")
		w.int(int64(sum.Running))
		w.str("state")
		w.str(string(sum.State))
		w.str("successful_count")
		w.int(int64(sum.Successful))
		w.str("task_id")
		w.str(t.ID)
		w.str("task_type")
		w.str(koophone.TaskTypeOf(t.ID))
		w.str("unknown_count")
		w.int(int64(sum.Unknown))
		tasks[i] = koophone.Task{} // encoded: let the jobs go
	}
}

// estimateTasksSize guesses the encoded size of tasks, to allocate once.
func estimateTasksSize(tasks []koophone.Task) int {
	n := 16
	for _, t := range tasks {
		n += 200 + len(t.ID)
		for _, j := range t.Jobs {
			n += 90 + len(j.JobID) + len(j.ErrorCode) + len(j.ErrorMsg) + len(j.ExecuteMsg)
		}
	}
	return n
}

// msgpackWriter writes the few msgpack forms a state needs.
type msgpackWriter struct {
	buf []byte
}

func newMsgpackWriter(size int) *msgpackWriter { return &msgpackWriter{buf: make([]byte, 0, size)} }

func (w *msgpackWriter) bytes() []byte { return w.buf }

func (w *msgpackWriter) raw(b []byte) { w.buf = append(w.buf, b...) }

func (w *msgpackWriter) str(s string) {
	n := len(s)
	switch {
	case n < 32:
		w.buf = append(w.buf, 0xa0|byte(n))
	case n <= math.MaxUint8:
		w.buf = append(w.buf, 0xd9, byte(n))
	case n <= math.MaxUint16:
		w.buf = append(w.buf, 0xda)
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(n))
	default:
		w.buf = append(w.buf, 0xdb)
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(n))
	}
	w.buf = append(w.buf, s...)
}

func (w *msgpackWriter) int(v int64) {
	switch {
	case v >= 0 && v < 128:
		w.buf = append(w.buf, byte(v))
	case v < 0 && v >= -32:
		w.buf = append(w.buf, byte(0xe0|(v+32)))
	default:
		w.buf = append(w.buf, 0xd3)
		w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v))
	}
}

func (w *msgpackWriter) arrayHeader(n int) { w.header(n, 0x90, 0xdc, 0xdd) }

func (w *msgpackWriter) mapHeader(n int) { w.header(n, 0x80, 0xde, 0xdf) }

// header writes the length of an array or map: in the fix format's low
// nibble below 16, else after the 16- or 32-bit format byte.
func (w *msgpackWriter) header(n int, fix, op16, op32 byte) {
	switch {
	case n < 16:
		w.buf = append(w.buf, fix|byte(n))
	case n <= math.MaxUint16:
		w.buf = append(w.buf, op16)
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(n))
	default:
		w.buf = append(w.buf, op32)
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(n))
	}
}
