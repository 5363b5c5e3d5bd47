package train

import (
	"github.com/relorago/harness/model"
	"github.com/relorago/harness/tasks"
)

// FinetuneParamCounts builds a fine-tuning run's model as the run does
// (setMethod, on freshly initialised weights: counts do not depend on the
// pre-trained values) and counts what trains. total is the pre-trained
// model's own parameters (every weight, LM head included), the base a
// method's share is of; trainable counts the head too when withHead.
func FinetuneParamCounts(cfg Config, withHead bool) (trainable, total int, err error) {
	if err := cfg.Validate(); err != nil {
		return 0, 0, err
	}
	task, err := tasks.Generate(cfg.Finetune.Task, cfg.Finetune.TaskSeed)
	if err != nil {
		return 0, 0, err
	}
	m, err := model.New(cfg.Model, cfg.Seed)
	if err != nil {
		return 0, 0, err
	}
	total, _ = m.Count()
	o := &finetuning{cfg: cfg, task: task, m: m}
	if err := o.setMethod(); err != nil {
		return 0, 0, err
	}
	_, trainable = m.Count()
	if withHead {
		for _, p := range o.head.Params() {
			trainable += len(p.Raw())
		}
	}
	return trainable, total, nil
}
