// References: docs/NODE.md "The node" (one serial loop owns the controller and the store).
namespace Proactive.Node.Hosting;

public sealed partial class NodeHost
{
    /// <summary>How many API calls may wait for the loop at once; beyond it callers get <see cref="NodeBusyException"/>.</summary>
    public const int MaxPendingCalls = 4096;

    private int _pendingCalls;

    /// <summary>
    /// Runs <paramref name="action"/> on the node's loop (the only thread that may touch the controller
    /// and the store) and returns its result to the calling request thread. An exception the action
    /// throws is the task's; a crash of the loop or a stop cancels the task instead of leaving it waiting.
    /// </summary>
    /// <exception cref="NodeBusyException">Too many calls are already waiting for the loop.</exception>
    internal Task<T> OnLoopAsync<T>(Func<T> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (Interlocked.Increment(ref _pendingCalls) > MaxPendingCalls)
        {
            Interlocked.Decrement(ref _pendingCalls);
            throw new NodeBusyException($"More than {MaxPendingCalls} API calls are waiting for the server's loop; try again shortly.");
        }

        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = cancellationToken.CanBeCanceled ? cancellationToken.Register(() => completion.TrySetCanceled(cancellationToken)) : default;
        void Run()
        {
            try
            {
                if (!completion.Task.IsCompleted)
                {
                    completion.TrySetResult(action());
                }
            }
            catch (Exception e)
            {
                completion.TrySetException(e);
            }
            finally
            {
                Interlocked.Decrement(ref _pendingCalls);
                registration.Dispose();
            }
        }

        void Abandon()
        {
            Interlocked.Decrement(ref _pendingCalls);
            registration.Dispose();
            completion.TrySetException(new NodeBusyException("The server is stopping."));
        }

        if (!_work.Writer.TryWrite(new NodeWork.Call(Run, Abandon)))
        {
            Abandon();
        }

        return completion.Task;
    }
}

/// <summary>The node's loop has too much waiting work to accept another API call (HTTP 503 with a retry hint).</summary>
public sealed class NodeBusyException(string message) : Exception(message);
