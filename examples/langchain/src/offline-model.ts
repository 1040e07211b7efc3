// The offline stand-in for a real model: LangChain's own fakeModel(), scripted turn by turn.
// Its answers are computed from the messages it receives, so what it says shows what the
// session handed it.
import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel, type FakeBuiltModel } from '@langchain/core/testing';

function humanTexts(messages: BaseMessage[]): string[] {
  return messages.filter((m) => m.getType() === 'human').map((m) => m.text);
}

export function offlineModel(): FakeBuiltModel {
  return (
    fakeModel()
      // Turn 1: "Hi, I am Ada."
      .respond((messages) => {
        const name = /I am (\w+)/.exec(humanTexts(messages).join(' '))?.[1] ?? 'there';
        return new AIMessage(`Nice to meet you, ${name}.`);
      })
      // Turn 2: a tool call, then an answer from the tool's result.
      .respondWithTools([{ name: 'get_weather', args: { city: 'Lisbon' } }])
      .respond((messages) => {
        const result = messages.filter((m) => ToolMessage.isInstance(m)).at(-1);
        return new AIMessage(`The forecast says: ${result?.text ?? 'nothing'}`);
      })
      // Turn 4 (streamed): answered from history only.
      .respond((messages) => {
        const name = /I am (\w+)/.exec(humanTexts(messages).join(' '))?.[1];
        const city = messages.filter((m) => ToolMessage.isInstance(m)).length > 0 ? 'Lisbon' : undefined;
        return new AIMessage(name && city ? `You are ${name} and you asked about ${city}.` : 'I do not know yet.');
      })
      // The middleware agent's two turns.
      .respond(new AIMessage('Noted: the meeting is on Friday.'))
      .respond((messages) => {
        const said = humanTexts(messages).find((t) => t.includes('meeting'));
        return new AIMessage(said ? `You told me: "${said}"` : 'You told me nothing.');
      })
  );
}
