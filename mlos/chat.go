package mlos

import (
	"errors"

	"github.com/mlos-foundation/axon/mlos/chattemplate"
)

// loadChat reads the package's chat template once at load: nil without an
// error when the package has none.
func loadChat(dir string) (*chattemplate.Template, error) {
	t, err := chattemplate.Load(dir, "")
	if errors.Is(err, chattemplate.ErrNoTemplate) {
		return nil, nil
	}
	return t, err
}

// HasChatTemplate reports whether the model's package has a usable chat template.
func (m *Model) HasChatTemplate() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.gen != nil && m.gen.chat != nil
}

// RenderChat renders messages with the package's chat template, with the
// generation prompt added, for a prompt tokenized without special tokens.
// A model without a template, and a conversation the template refuses
// (raise_exception), are 400s.
func (m *Model) RenderChat(messages []map[string]any, tools []map[string]any) (string, error) {
	m.mu.RLock()
	g := m.gen
	m.mu.RUnlock()
	if g == nil {
		return "", BadRequest("model %s does not generate text", m.Name)
	}
	if g.chatErr != nil {
		return "", BadRequest("model %s has a chat template that cannot be used: %w", m.Name, g.chatErr)
	}
	if g.chat == nil {
		return "", BadRequest("model %s has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja); use /v1/completions with a prompt instead", m.Name)
	}
	out, err := g.chat.Render(messages, chattemplate.Options{AddGenerationPrompt: true, Tools: tools})
	if err != nil {
		var te *chattemplate.TemplateError
		if errors.As(err, &te) {
			return "", BadRequest("the chat template refuses these messages: %s", te.Msg)
		}
		return "", BadRequest("render the chat template: %w", err)
	}
	return out, nil
}
